#include "unboxed.h"

#include <array>
#include <cmath>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

namespace kdep {
namespace {

struct TensorArg {
  using Held = const at::Tensor*;
  using Cpp = const at::Tensor&;
};
struct ScalarArg {
  using Held = at::Scalar;
  using Cpp = const at::Scalar&;
};

bool Get(napi_env env, Table& tb, napi_value v, const at::Tensor** out) {
  *out = FindValue(env, tb, v);
  return *out != nullptr;
}

bool Get(napi_env env, Table&, napi_value v, at::Scalar* out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) return false;
  *out = ScalarOf(d);
  return true;
}

const at::Tensor& Deref(const at::Tensor* t) { return *t; }
const at::Scalar& Deref(const at::Scalar& s) { return s; }

// An operator `Ret(self, Rest...)`; in place when self is written (`Tensor(a!) self`).
template <bool InPlace, class... Rest>
class UnboxedOp final : public Unboxed {
  using Self = std::conditional_t<InPlace, at::Tensor&, const at::Tensor&>;
  using Ret = std::conditional_t<InPlace, at::Tensor&, at::Tensor>;
  using Sig = Ret(Self, typename Rest::Cpp...);
  static constexpr size_t kArgs = 1 + sizeof...(Rest);

 public:
  // Throws c10::Error when the operator's C++ signature is not Sig.
  UnboxedOp(const c10::OperatorHandle& op, std::array<c10::optional<at::Scalar>, kArgs> defaults)
      : op_(op.typed<Sig>()), defaults_(std::move(defaults)) {}

  bool TryCall(napi_env env, Table& tb, const napi_value* argv, size_t given, bool discard,
               napi_value* out) const override {
    return Call(env, tb, argv, given, discard, out, std::index_sequence_for<Rest...>{});
  }

 private:
  template <size_t... I>
  bool Call(napi_env env, Table& tb, const napi_value* argv, size_t given, bool discard, napi_value* out,
            std::index_sequence<I...>) const {
    const at::Tensor* self = nullptr;
    std::tuple<typename Rest::Held...> rest;
    if (given == 0 || !Get(env, tb, argv[0], &self)) return false;
    if (!(Arg(env, tb, argv, given, I + 1, &std::get<I>(rest)) && ...)) return false;
    // In place, self is the table's own tensor: the kernel writes its data, not the handle.
    Ret r = op_.call(const_cast<Self>(*self), Deref(std::get<I>(rest))...);
    *out = nullptr;
    if (!discard && r.defined()) napi_create_double(env, Insert(tb, env, r), out);
    if (!discard && !r.defined()) napi_get_null(env, out);
    return true;
  }

  template <class H>
  bool Arg(napi_env env, Table& tb, const napi_value* argv, size_t given, size_t j, H* h) const {
    if (j < given) return Get(env, tb, argv[j], h);
    if constexpr (std::is_same_v<H, at::Scalar>) {
      if (defaults_[j]) {
        *h = *defaults_[j];
        return true;
      }
    }
    return false;
  }

  c10::TypedOperatorHandle<Sig> op_;
  std::array<c10::optional<at::Scalar>, kArgs> defaults_;
};

template <bool InPlace, class... Rest>
std::unique_ptr<Unboxed> Make(const c10::OperatorHandle& op, const std::vector<c10::Argument>& args) {
  std::array<c10::optional<at::Scalar>, 1 + sizeof...(Rest)> defaults;
  for (size_t i = 0; i < args.size(); i++) {
    const auto& d = args[i].default_value();
    if (d && (d->isInt() || d->isDouble() || d->isBool())) defaults[i] = d->toScalar();
  }
  return std::make_unique<UnboxedOp<InPlace, Rest...>>(op, std::move(defaults));
}

template <bool InPlace>
std::unique_ptr<Unboxed> MakeShape(const std::string& shape, const c10::OperatorHandle& op,
                                   const std::vector<c10::Argument>& args) {
  if (shape == "T") return Make<InPlace>(op, args);
  if (shape == "TT") return Make<InPlace, TensorArg>(op, args);
  if (shape == "TS") return Make<InPlace, ScalarArg>(op, args);
  if (shape == "TTT") return Make<InPlace, TensorArg, TensorArg>(op, args);
  if (shape == "TTS") return Make<InPlace, TensorArg, ScalarArg>(op, args);
  if (shape == "TSS") return Make<InPlace, ScalarArg, ScalarArg>(op, args);
  return nullptr;
}

bool Writes(const c10::Argument& a) { return a.alias_info() != nullptr && a.alias_info()->isWrite(); }

}  // namespace

std::unique_ptr<Unboxed> MakeUnboxed(const c10::OperatorHandle& op) {
  const c10::FunctionSchema& s = op.schema();
  const auto& args = s.arguments();
  if (s.is_vararg() || s.is_varret() || s.returns().size() != 1 || args.empty()) return nullptr;
  if (s.returns()[0].type()->str() != "Tensor") return nullptr;
  std::string shape;
  for (size_t i = 0; i < args.size(); i++) {
    const std::string t = args[i].type()->str();
    if (t == "Tensor") shape += 'T';
    else if (t == "Scalar") shape += 'S';
    else return nullptr;
    if (i > 0 && Writes(args[i])) return nullptr;  // out= variants
  }
  const bool inPlace = Writes(args[0]);
  if (inPlace != Writes(s.returns()[0])) return nullptr;
  try {
    return inPlace ? MakeShape<true>(shape, op, args) : MakeShape<false>(shape, op, args);
  } catch (const c10::Error&) {
    return nullptr;  // a C++ signature other than the schema's plain one: stay boxed
  }
}

}  // namespace kdep
