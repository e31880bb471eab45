// The tensor layer's public face. Importing it registers every op on Tensor.prototype.
import "./ops/math.js";
import "./ops/reduce.js";
import "./ops/shape.js";
import "./ops/linalg.js";
import "./threads.js";

export * from "./autocast.js";
export * from "./autograd.js";
export * from "./dtype.js";
export * from "./ops/creation.js";
export * from "./ops/linalg.js";
export * from "./ops/math.js";
export * from "./ops/reduce.js";
export * from "./ops/shape.js";
export * from "./scope.js";
export { Tensor, type TypedArray } from "./tensor.js";
export * from "./threads.js";
