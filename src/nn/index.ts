export * from "./batchnorm.js";
export * as F from "./functional.js";
export * as init from "./init.js";
export * from "./layers.js";
export * from "./linear.js";
export * from "./module.js";
