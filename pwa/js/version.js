// The app's version: sent with every push and named in sw.js's cache (a test keeps them equal).
export const APP_VERSION = '1.4.0';
