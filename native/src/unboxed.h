// Unboxed calls for the operators an optimiser step and element-wise code call most: those
// whose schema is a tensor followed by up to two tensors or scalars, returning one tensor
// (add, mul, div, sub, relu, masked_fill, their in-place forms...). They skip the IValue
// stack and the boxed kernel wrapper, as PyTorch's own Python bindings do. The shape is read
// from the schema, so this file still names no operator.
#pragma once
#include <ATen/core/dispatch/Dispatcher.h>
#include <node_api.h>

#include <cmath>
#include <memory>

#include "handle.h"

namespace kdep {

// A JS number as an ATen Scalar, with Python's rule: an integral value is an int (so
// `int_tensor * 2` stays integral), anything else a float. Callers that need a float for an
// integral value pass {f: value} (boxed path).
inline at::Scalar ScalarOf(double d) {
  if (std::nearbyint(d) == d && std::abs(d) < 9.0e15) return at::Scalar(static_cast<int64_t>(d));
  return at::Scalar(d);
}

class Unboxed {
 public:
  virtual ~Unboxed() = default;
  // Calls the operator when every given argument is a live tensor or a plain number where
  // the schema expects one, and stores the result in *out (nullptr when `discard`). Returns
  // false, having done nothing, for anything else: the boxed path then converts the
  // arguments and words the error.
  virtual bool TryCall(napi_env env, Table& tb, const napi_value* argv, size_t given, bool discard,
                       napi_value* out) const = 0;
};

// The unboxed caller for an operator, or nullptr when its schema has no supported shape.
std::unique_ptr<Unboxed> MakeUnboxed(const c10::OperatorHandle& op);

}  // namespace kdep
