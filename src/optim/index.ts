export * from "./schedule.js";
export * from "./sgd.js";
