export * from "./batchnorm.js";
/** Functional ops and losses (torch.nn.functional). */
export * as F from "./functional.js";
/** Parameter initialisers (torch.nn.init), drawing from libtorch's generator. */
export * as init from "./init.js";
export * from "./layers.js";
export * from "./linear.js";
export * from "./module.js";
