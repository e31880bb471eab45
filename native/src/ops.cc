// One generic entry point for every ATen operator: look an operator up once by its schema
// name, then call it boxed with arguments converted according to that schema (or unboxed,
// for the simple schemas of unboxed.h). Autograd, device dispatch and type promotion all
// happen inside libtorch's dispatcher, exactly as for TorchScript. No operator is named in
// this file.
#include <ATen/core/dispatch/Dispatcher.h>

#include <cmath>
#include <string>
#include <vector>

#include "handle.h"
#include "ops.h"
#include "unboxed.h"

namespace kdep {
namespace {

enum class Kind {
  Tensor, OptTensor, Int, OptInt, Float, OptFloat, Bool, OptBool, Scalar, OptScalar,
  IntList, OptIntList, FloatList, OptFloatList, BoolList, TensorList, OptTensorList,
  Str, OptStr, Device, OptDevice, None
};

struct ArgSpec {
  Kind kind;
  std::string name;
  c10::optional<int32_t> n;  // fixed list length, e.g. int[2]
  c10::optional<c10::IValue> def;
};

struct OpEntry {
  c10::OperatorHandle op;
  std::string name;
  std::vector<ArgSpec> args;
  std::unique_ptr<Unboxed> unboxed;  // null when the schema has no unboxed shape
};

std::vector<OpEntry>& Ops() {
  static std::vector<OpEntry> table;
  return table;
}

Kind KindOf(const std::string& t, const std::string& op) {
  // Type names as printed by the schema; ScalarType, Layout and MemoryFormat are ints there,
  // SymInt (libtorch 2.x) accepts plain ints when boxed.
  static const std::vector<std::pair<std::string, Kind>> kinds = {
      {"Tensor", Kind::Tensor},         {"Tensor?", Kind::OptTensor},
      {"int", Kind::Int},               {"int?", Kind::OptInt},
      {"SymInt", Kind::Int},            {"SymInt?", Kind::OptInt},
      {"float", Kind::Float},           {"float?", Kind::OptFloat},
      {"bool", Kind::Bool},             {"bool?", Kind::OptBool},
      {"Scalar", Kind::Scalar},         {"Scalar?", Kind::OptScalar},
      {"number", Kind::Scalar},
      {"int[]", Kind::IntList},         {"int[]?", Kind::OptIntList},
      {"SymInt[]", Kind::IntList},      {"SymInt[]?", Kind::OptIntList},
      {"float[]", Kind::FloatList},     {"float[]?", Kind::OptFloatList},
      {"bool[]", Kind::BoolList},       {"Tensor[]", Kind::TensorList},
      {"Tensor?[]", Kind::OptTensorList}, {"str", Kind::Str},
      {"str?", Kind::OptStr},           {"Device", Kind::Device},
      {"Device?", Kind::OptDevice},     {"Generator?", Kind::None},
      {"ScalarType", Kind::Int},        {"ScalarType?", Kind::OptInt},
      {"Layout?", Kind::OptInt},        {"MemoryFormat", Kind::Int},
      {"MemoryFormat?", Kind::OptInt},
  };
  for (const auto& k : kinds) {
    if (k.first == t) return k.second;
  }
  throw std::runtime_error("Operator " + op + " has an argument of unsupported type " + t);
}

int64_t ToInt(Napi::Env env, const Napi::Value& v, const ArgSpec& a, const std::string& op) {
  if (v.IsNumber()) return v.As<Napi::Number>().Int64Value();
  if (v.IsBigInt()) {
    bool lossless = false;
    return v.As<Napi::BigInt>().Int64Value(&lossless);
  }
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? 1 : 0;
  throw Napi::TypeError::New(env, "Expected an integer for " + a.name + " of " + op);
}

double ToFloat(Napi::Env env, const Napi::Value& v, const ArgSpec& a, const std::string& op) {
  if (v.IsNumber()) return v.As<Napi::Number>().DoubleValue();
  throw Napi::TypeError::New(env, "Expected a number for " + a.name + " of " + op);
}

c10::Scalar ToScalar(Napi::Env env, const Napi::Value& v, const ArgSpec& a, const std::string& op) {
  if (v.IsBoolean()) return c10::Scalar(v.As<Napi::Boolean>().Value());
  if (v.IsBigInt()) {
    bool lossless = false;
    return c10::Scalar(static_cast<int64_t>(v.As<Napi::BigInt>().Int64Value(&lossless)));
  }
  if (v.IsNumber()) return ScalarOf(v.As<Napi::Number>().DoubleValue());
  if (v.IsObject()) {
    Napi::Value f = v.As<Napi::Object>().Get("f");
    if (f.IsNumber()) return c10::Scalar(f.As<Napi::Number>().DoubleValue());
  }
  throw Napi::TypeError::New(env, "Expected a number for " + a.name + " of " + op);
}

std::vector<int64_t> ToIntVec(Napi::Env env, const Napi::Value& v, const ArgSpec& a,
                              const std::string& op) {
  if (v.IsNumber() && a.n) return std::vector<int64_t>(*a.n, ToInt(env, v, a, op));
  if (!v.IsArray()) throw Napi::TypeError::New(env, "Expected an array of integers for " + a.name + " of " + op);
  auto arr = v.As<Napi::Array>();
  std::vector<int64_t> out(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); i++) out[i] = ToInt(env, arr.Get(i), a, op);
  return out;
}

c10::IValue Convert(Napi::Env env, const Napi::Value& v, const ArgSpec& a, const std::string& op) {
  const bool none = v.IsNull() || v.IsUndefined();
  switch (a.kind) {
    case Kind::Tensor:
      return Unwrap(env, v, a.name.c_str());
    case Kind::OptTensor:
      return none ? c10::IValue() : c10::IValue(Unwrap(env, v, a.name.c_str()));
    case Kind::Int:
      return ToInt(env, v, a, op);
    case Kind::OptInt:
      return none ? c10::IValue() : c10::IValue(ToInt(env, v, a, op));
    case Kind::Float:
      return ToFloat(env, v, a, op);
    case Kind::OptFloat:
      return none ? c10::IValue() : c10::IValue(ToFloat(env, v, a, op));
    case Kind::Bool:
    case Kind::OptBool:
      if (none && a.kind == Kind::OptBool) return c10::IValue();
      if (!v.IsBoolean()) throw Napi::TypeError::New(env, "Expected a boolean for " + a.name + " of " + op);
      return v.As<Napi::Boolean>().Value();
    case Kind::Scalar:
      return ToScalar(env, v, a, op);
    case Kind::OptScalar:
      return none ? c10::IValue() : c10::IValue(ToScalar(env, v, a, op));
    case Kind::IntList:
      return c10::IValue(ToIntVec(env, v, a, op));
    case Kind::OptIntList:
      return none ? c10::IValue() : c10::IValue(ToIntVec(env, v, a, op));
    case Kind::FloatList:
    case Kind::OptFloatList: {
      if (none && a.kind == Kind::OptFloatList) return c10::IValue();
      if (!v.IsArray()) throw Napi::TypeError::New(env, "Expected an array of numbers for " + a.name + " of " + op);
      auto arr = v.As<Napi::Array>();
      std::vector<double> out(arr.Length());
      for (uint32_t i = 0; i < arr.Length(); i++) out[i] = ToFloat(env, arr.Get(i), a, op);
      return c10::IValue(out);
    }
    case Kind::BoolList: {
      if (!v.IsArray()) throw Napi::TypeError::New(env, "Expected an array of booleans for " + a.name + " of " + op);
      auto arr = v.As<Napi::Array>();
      c10::List<bool> out;
      for (uint32_t i = 0; i < arr.Length(); i++) out.push_back(arr.Get(i).ToBoolean().Value());
      return c10::IValue(out);
    }
    case Kind::TensorList: {
      if (!v.IsArray()) throw Napi::TypeError::New(env, "Expected an array of tensors for " + a.name + " of " + op);
      auto arr = v.As<Napi::Array>();
      c10::List<at::Tensor> out;
      out.reserve(arr.Length());
      for (uint32_t i = 0; i < arr.Length(); i++) out.push_back(Unwrap(env, arr.Get(i), a.name.c_str()));
      return c10::IValue(out);
    }
    case Kind::OptTensorList: {
      if (!v.IsArray()) throw Napi::TypeError::New(env, "Expected an array of tensors for " + a.name + " of " + op);
      auto arr = v.As<Napi::Array>();
      c10::List<c10::optional<at::Tensor>> out;
      for (uint32_t i = 0; i < arr.Length(); i++) {
        Napi::Value e = arr.Get(i);
        if (e.IsNull() || e.IsUndefined()) out.push_back(c10::nullopt);
        else out.push_back(Unwrap(env, e, a.name.c_str()));
      }
      return c10::IValue(out);
    }
    case Kind::Str:
    case Kind::OptStr:
      if (none && a.kind == Kind::OptStr) return c10::IValue();
      if (!v.IsString()) throw Napi::TypeError::New(env, "Expected a string for " + a.name + " of " + op);
      return c10::IValue(v.As<Napi::String>().Utf8Value());
    case Kind::Device:
    case Kind::OptDevice:
      if (none && a.kind == Kind::OptDevice) return c10::IValue();
      if (!v.IsString()) throw Napi::TypeError::New(env, "Expected a device string for " + a.name + " of " + op);
      return c10::IValue(c10::Device(v.As<Napi::String>().Utf8Value()));
    case Kind::None:
      return c10::IValue();
  }
  return c10::IValue();
}

Napi::Value FromIValue(Napi::Env env, const c10::IValue& v) {
  if (v.isTensor()) return Wrap(env, v.toTensor());
  if (v.isNone()) return env.Null();
  if (v.isInt()) return Napi::Number::New(env, static_cast<double>(v.toInt()));
  if (v.isDouble()) return Napi::Number::New(env, v.toDouble());
  if (v.isBool()) return Napi::Boolean::New(env, v.toBool());
  if (v.isScalar()) {
    auto s = v.toScalar();
    return Napi::Number::New(env, s.toDouble());
  }
  if (v.isTensorList()) {
    auto list = v.toTensorList();
    auto arr = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); i++) arr.Set(static_cast<uint32_t>(i), Wrap(env, list.get(i)));
    return arr;
  }
  if (v.isIntList()) {
    auto list = v.toIntVector();
    auto arr = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); i++) arr.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(list[i])));
    return arr;
  }
  if (v.isTuple()) {
    const auto& elems = v.toTupleRef().elements();
    auto arr = Napi::Array::New(env, elems.size());
    for (size_t i = 0; i < elems.size(); i++) arr.Set(static_cast<uint32_t>(i), FromIValue(env, elems[i]));
    return arr;
  }
  if (v.isString()) return Napi::String::New(env, v.toStringRef());
  throw Napi::Error::New(env, "Unsupported return type " + v.tagKind());
}

bool IsOptional(Kind k) {
  switch (k) {
    case Kind::OptTensor: case Kind::None: case Kind::OptInt: case Kind::OptFloat:
    case Kind::OptBool: case Kind::OptScalar: case Kind::OptIntList: case Kind::OptStr:
    case Kind::OptDevice: case Kind::OptFloatList: case Kind::OptTensorList:
      return true;
    default:
      return false;
  }
}

// Converts the common argument kinds straight from N-API (one call each, no typeof); false
// sends the value to the checked, general path (which also words the errors).
bool FastArg(napi_env env, Table& tb, napi_value v, Kind kind, torch::jit::Stack& stack) {
  double d;
  switch (kind) {
    case Kind::Tensor:
    case Kind::OptTensor: {
      at::Tensor* t = FindValue(env, tb, v);
      if (t == nullptr) return false;
      stack.emplace_back(*t);
      return true;
    }
    case Kind::Int:
    case Kind::OptInt: {
      int64_t n;
      if (napi_get_value_int64(env, v, &n) != napi_ok) return false;
      stack.emplace_back(n);
      return true;
    }
    case Kind::Float:
    case Kind::OptFloat:
      if (napi_get_value_double(env, v, &d) != napi_ok) return false;
      stack.emplace_back(d);
      return true;
    case Kind::Scalar:
    case Kind::OptScalar:
      if (napi_get_value_double(env, v, &d) != napi_ok) return false;
      stack.emplace_back(ScalarOf(d));
      return true;
    default:
      return false;
  }
}

constexpr size_t kMaxArgs = 32;

// What the hot entry points need, one per JS thread, handed to them as callback data so
// they pay no thread-local lookup.
struct HotState {
  Table* tb;
  // One stack reused across calls (saves an allocation per op); emptied on every exit so
  // it never keeps a tensor alive after the call.
  torch::jit::Stack stack;
};

thread_local HotState g_hot{&ThreadTable(), {}};

// callOp(id, ...args): a raw N-API callback, the hottest path of the addon.
napi_value Call(napi_env env, napi_callback_info cbinfo, bool discard) {
  size_t argc = kMaxArgs;
  napi_value argv[kMaxArgs];
  void* data = nullptr;
  napi_get_cb_info(env, cbinfo, &argc, argv, nullptr, &data);
  Table& tb = *static_cast<HotState*>(data)->tb;
  torch::jit::Stack& stack = static_cast<HotState*>(data)->stack;
  Napi::Env jsEnv(env);
  struct Clear {
    torch::jit::Stack& s;
    ~Clear() { s.clear(); }
  } clear{stack};
  try {
    // Everything, the result's conversion included, inside Guard: no C++ exception may
    // leave a raw N-API callback (it would abort the process).
    return Guard(jsEnv, [&]() -> Napi::Value {
      uint32_t id = UINT32_MAX;
      if (argc > 0) napi_get_value_uint32(env, argv[0], &id);
      auto& table = Ops();
      if (id >= table.size()) throw Napi::RangeError::New(jsEnv, "Unknown operator id");
      const OpEntry& e = table[id];
      const size_t given = argc - 1;
      if (given > e.args.size() || argc > kMaxArgs) {
        throw Napi::TypeError::New(jsEnv, e.name + " takes " + std::to_string(e.args.size()) +
                                              " arguments but received " + std::to_string(given));
      }
      napi_value fast = nullptr;
      if (e.unboxed && e.unboxed->TryCall(env, tb, argv + 1, given, discard, &fast)) {
        return Napi::Value(env, fast);
      }
      stack.clear();
      for (size_t i = 0; i < e.args.size(); i++) {
        const ArgSpec& a = e.args[i];
        if (i < given && FastArg(env, tb, argv[i + 1], a.kind, stack)) continue;
        Napi::Value v = i < given ? Napi::Value(env, argv[i + 1]) : Napi::Value(env, nullptr);
        if (v.IsUndefined() && a.def) {
          stack.push_back(*a.def);
        } else if (v.IsUndefined() && !IsOptional(a.kind)) {
          throw Napi::TypeError::New(jsEnv, "Missing argument " + a.name + " of " + e.name);
        } else {
          stack.push_back(Convert(jsEnv, v, a, e.name));
        }
      }
      e.op.callBoxed(&stack);
      if (discard) return Napi::Value(env, nullptr);
      if (stack.size() == 1 && stack[0].isTensor() && stack[0].toTensor().defined()) {
        return Napi::Number::New(jsEnv, Insert(tb, env, std::move(stack[0]).toTensor()));
      }
      if (stack.size() == 1) return FromIValue(jsEnv, stack[0]);
      auto arr = Napi::Array::New(jsEnv, stack.size());
      for (size_t i = 0; i < stack.size(); i++) arr.Set(static_cast<uint32_t>(i), FromIValue(jsEnv, stack[i]));
      return arr;
    });
  } catch (const Napi::Error& err) {
    err.ThrowAsJavaScriptException();
    return nullptr;
  }
}

napi_value DisposeRaw(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 1;
  napi_value arg;
  void* data = nullptr;
  napi_get_cb_info(env, cbinfo, &argc, &arg, nullptr, &data);
  double h = std::nan("");
  if (argc == 1) napi_get_value_double(env, arg, &h);
  try {
    return Guard(Napi::Env(env), [&]() -> Napi::Value {
      return Napi::Boolean::New(env, Release(*static_cast<HotState*>(data)->tb, env, h));
    });
  } catch (const Napi::Error& err) {
    err.ThrowAsJavaScriptException();
    return nullptr;
  }
}

napi_value CallOpRaw(napi_env env, napi_callback_info info) { return Call(env, info, false); }
napi_value CallOpDiscardRaw(napi_env env, napi_callback_info info) { return Call(env, info, true); }

void Export(Napi::Env env, Napi::Object exports, const char* name, napi_callback cb) {
  napi_value fn;
  NAPI_THROW_IF_FAILED_VOID(env, napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, &g_hot, &fn));
  exports.Set(name, Napi::Value(env, fn));
}

}  // namespace

Napi::Value LookupOp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    std::string name = info[0].As<Napi::String>().Utf8Value();
    std::string overload = info.Length() > 1 ? info[1].As<Napi::String>().Utf8Value() : "";
    auto handle = c10::Dispatcher::singleton().findSchema({name, overload});
    if (!handle) {
      throw Napi::Error::New(env, "No operator " + name + (overload.empty() ? "" : "." + overload) +
                                      " in this libtorch");
    }
    OpEntry e{*handle, name + (overload.empty() ? "" : "." + overload), {}, MakeUnboxed(*handle)};
    for (const auto& arg : handle->schema().arguments()) {
      ArgSpec a{KindOf(arg.type()->str(), e.name), arg.name(), arg.N(), arg.default_value()};
      e.args.push_back(std::move(a));
    }
    const bool unboxed = e.unboxed != nullptr;
    auto& table = Ops();
    table.push_back(std::move(e));
    auto out = Napi::Object::New(env);
    out.Set("id", Napi::Number::New(env, static_cast<double>(table.size() - 1)));
    out.Set("unboxed", Napi::Boolean::New(env, unboxed));
    std::ostringstream schema;
    schema << handle->schema();
    out.Set("schema", schema.str());
    return out;
  });
}

void ExportHotPaths(Napi::Env env, Napi::Object exports) {
  Export(env, exports, "callOp", CallOpRaw);
  Export(env, exports, "callOpDiscard", CallOpDiscardRaw);
  Export(env, exports, "dispose", DisposeRaw);
}

}  // namespace kdep
