// Matrix products and decompositions (LAPACK through ATen; use float64 for decompositions).
import { callAten } from "../opTable.js";
import { Tensor, wrap, wrapAll } from "../tensor.js";

export const matmul = (a: Tensor, b: Tensor): Tensor =>
  wrap(callAten("matmul", a.handle, b.handle));
export const mm = (a: Tensor, b: Tensor): Tensor => wrap(callAten("mm", a.handle, b.handle));
export const bmm = (a: Tensor, b: Tensor): Tensor => wrap(callAten("bmm", a.handle, b.handle));
export const outer = (a: Tensor, b: Tensor): Tensor => wrap(callAten("outer", a.handle, b.handle));

/** Eigen-decomposition of a symmetric matrix: eigenvalues ascending, eigenvectors as columns. */
export function eigh(
  a: Tensor,
  uplo: "L" | "U" = "L",
): { eigenvalues: Tensor; eigenvectors: Tensor } {
  const [eigenvalues, eigenvectors] = wrapAll(callAten("linalg_eigh", a.handle, uplo));
  return { eigenvalues, eigenvectors };
}

/** A = U·diag(S)·Vh; singular values descending. */
export function svd(a: Tensor, fullMatrices = false): { U: Tensor; S: Tensor; Vh: Tensor } {
  const [U, S, Vh] = wrapAll(callAten("linalg_svd", a.handle, fullMatrices));
  return { U, S, Vh };
}

declare module "../tensor.js" {
  interface Tensor {
    matmul(b: Tensor): Tensor;
    mm(b: Tensor): Tensor;
    bmm(b: Tensor): Tensor;
  }
}

Tensor.prototype.matmul = function (b) {
  return matmul(this, b);
};
Tensor.prototype.mm = function (b) {
  return mm(this, b);
};
Tensor.prototype.bmm = function (b) {
  return bmm(this, b);
};
