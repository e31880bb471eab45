export * from "./gradScaler.js";
export * from "./schedule.js";
export * from "./sgd.js";
