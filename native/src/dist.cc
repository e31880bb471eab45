// Data-parallel collectives over libtorch's own c10d: a TCPStore (server on rank 0, or a
// client of a launcher's store under its prefix), one process group per process (Gloo; NCCL
// on a CUDA build compiled with KDEP_WITH_NCCL), and blocking collectives with a timeout.
// Thin by design: which tensors to reduce, when, and what an error means live in
// src/distributed/*.ts. Every failure (unreachable store, dead peer, timeout) is a C++
// exception that Guard turns into a JS error; nothing here aborts.
#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/autograd/engine.h>
#include <torch/csrc/autograd/utils/lambda_post_hook.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#if defined(USE_C10D_GLOO)
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#if defined(KDEP_WITH_NCCL)
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "handle.h"

namespace kdep {
namespace {

using ms = std::chrono::milliseconds;

// Gradient buckets reduced while backward runs (as DDP's reducer does): a post-hook on each
// parameter's gradient accumulator counts the bucket's ready gradients; a full bucket is
// flattened and its all-reduce started, in bucket order on every rank; when backward ends,
// an engine callback waits for them and writes the averages back into the gradients.
struct Overlap {
  std::vector<std::vector<at::Tensor>> buckets;
  std::vector<std::shared_ptr<torch::autograd::Node>> accumulators;  // keeps the hooks alive
  std::vector<size_t> ready;
  std::vector<at::Tensor> flats;
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  size_t next = 0;  // the first bucket not started yet
  bool queued = false;
  double bytes = 0;
};

struct DistState {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroup> pg;
  ms timeout{60000};
  std::vector<std::unique_ptr<Overlap>> overlaps;
};

DistState& State() {
  static DistState s;
  return s;
}

c10d::ProcessGroup& Group(Napi::Env env) {
  if (!State().pg) throw Napi::Error::New(env, "distributed: no process group (call distInit first)");
  return *State().pg;
}

std::string Str(const Napi::Object& o, const char* key, const std::string& dflt = "") {
  auto v = o.Get(key);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : dflt;
}

int64_t Int(const Napi::Object& o, const char* key, int64_t dflt) {
  auto v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Int64Value() : dflt;
}

ms TimeoutArg(const Napi::Value& v) {
  return v.IsNumber() ? ms(v.As<Napi::Number>().Int64Value()) : State().timeout;
}

std::vector<at::Tensor> Tensors(Napi::Env env, const Napi::Value& v, const char* what) {
  if (!v.IsArray()) throw Napi::TypeError::New(env, std::string("Expected an array of tensors for ") + what);
  auto arr = v.As<Napi::Array>();
  std::vector<at::Tensor> out;
  for (uint32_t i = 0; i < arr.Length(); i++) out.push_back(Unwrap(env, arr.Get(i), what));
  return out;
}

// Waits for a collective; a timeout or a peer's failure becomes an exception naming `what`.
void Finish(const c10::intrusive_ptr<c10d::Work>& work, ms timeout, const char* what) {
  try {
    work->wait(timeout);
  } catch (const c10::Error& e) {
    throw std::runtime_error(std::string(what) + " failed: " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string(what) + " failed: " + e.what());
  }
}

c10d::ReduceOp OpArg(Napi::Env env, const Napi::Value& v) {
  std::string op = v.IsString() ? v.As<Napi::String>().Utf8Value() : "sum";
  if (op == "sum") return c10d::ReduceOp::SUM;
  if (op == "max") return c10d::ReduceOp::MAX;
  if (op == "min") return c10d::ReduceOp::MIN;
  throw Napi::Error::New(env, "distributed: unknown reduce op \"" + op + "\" (sum, max, min)");
}

void AllReduceSum(std::vector<at::Tensor>& ts, ms timeout) {
  c10d::AllreduceOptions o;
  o.reduceOp = c10d::ReduceOp::SUM;
  o.timeout = timeout;
  Finish(State().pg->allreduce(ts, o), timeout, "allreduce");
}

// A sum over ranks that autograd can differentiate: the gradient of every rank's input is
// the sum of all ranks' output gradients (SyncBatchNorm's statistics need exactly this).
struct DiffAllReduce : public torch::autograd::Function<DiffAllReduce> {
  static at::Tensor forward(torch::autograd::AutogradContext*, const at::Tensor& x) {
    std::vector<at::Tensor> ts{x.contiguous().clone()};
    AllReduceSum(ts, State().timeout);
    return ts[0];
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext*,
                                                  torch::autograd::variable_list g) {
    std::vector<at::Tensor> ts{g[0].contiguous().clone()};
    AllReduceSum(ts, State().timeout);
    return {ts[0]};
  }
};

// distInit({rank, worldSize, host, port, isServer, prefix?, iface?, timeoutMs, backend?})
Napi::Value DistInit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto o = info[0].As<Napi::Object>();
    auto& s = State();
    if (s.pg) throw Napi::Error::New(env, "distributed: already initialised in this process");
    const int rank = static_cast<int>(Int(o, "rank", -1));
    const int world = static_cast<int>(Int(o, "worldSize", -1));
    s.timeout = ms(Int(o, "timeoutMs", 60000));
    c10d::TCPStoreOptions so;
    so.port = static_cast<uint16_t>(Int(o, "port", 29500));
    so.isServer = o.Get("isServer").ToBoolean().Value();
    so.numWorkers = world;
    so.waitWorkers = false;
    so.timeout = s.timeout;
    so.multiTenant = true;
    c10::intrusive_ptr<c10d::Store> store = c10::make_intrusive<c10d::TCPStore>(Str(o, "host", "127.0.0.1"), so);
    const std::string prefix = Str(o, "prefix");
    if (!prefix.empty()) store = c10::make_intrusive<c10d::PrefixStore>(prefix, store);
    store = c10::make_intrusive<c10d::PrefixStore>("kdep/", store);
    const std::string backend = Str(o, "backend", "gloo");
    if (backend == "gloo") {
#if defined(USE_C10D_GLOO)
      auto opts = c10d::ProcessGroupGloo::Options::create(s.timeout);
      const std::string iface = Str(o, "iface");
      const std::string hostname = Str(o, "hostname");
      if (!iface.empty()) opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(iface));
      else if (!hostname.empty()) opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(hostname));
      else opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      opts->threads = 2;
      s.pg = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, world, opts);
#else
      throw Napi::Error::New(env, "distributed: this build has no Gloo (install libgloo-dev and rebuild)");
#endif
    } else if (backend == "nccl") {
#if defined(KDEP_WITH_NCCL)
      auto opts = c10d::ProcessGroupNCCL::Options::create();
      opts->timeout = s.timeout;
      s.pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, world, opts);
#else
      throw Napi::Error::New(env, "distributed: this build has no NCCL (build against a CUDA libtorch with KDEP_WITH_NCCL)");
#endif
    } else {
      throw Napi::Error::New(env, "distributed: unknown backend \"" + backend + "\" (gloo, nccl)");
    }
    s.store = store;
    return env.Undefined();
  });
}

Napi::Value DistDestroy(const Napi::CallbackInfo& info) {
  State().overlaps.clear();
  State().pg.reset();
  State().store.reset();
  return info.Env().Undefined();
}

// distAllReduce(tensors, op, timeoutMs?) — in place; every tensor must be contiguous.
Napi::Value DistAllReduce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto& pg = Group(env);
    auto ts = Tensors(env, info[0], "allreduce tensors");
    c10d::AllreduceOptions o;
    o.reduceOp = OpArg(env, info[1]);
    o.timeout = TimeoutArg(info[2]);
    // Gloo reduces a list of tensors as one (they are its local inputs): one call each.
    for (auto& t : ts) {
      std::vector<at::Tensor> one{t};
      Finish(pg.allreduce(one, o), o.timeout, "allreduce");
    }
    return env.Undefined();
  });
}

// distAllReduceDiff(tensor) — a new tensor: the sum over ranks, differentiable.
Napi::Value DistAllReduceDiff(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    Group(env);
    return Wrap(env, DiffAllReduce::apply(Unwrap(env, info[0], "tensor")));
  });
}

// distBroadcast(tensors, root, timeoutMs?) — in place.
Napi::Value DistBroadcast(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto& pg = Group(env);
    auto ts = Tensors(env, info[0], "broadcast tensors");
    c10d::BroadcastOptions o;
    o.rootRank = info[1].As<Napi::Number>().Int64Value();
    o.timeout = TimeoutArg(info[2]);
    for (auto& t : ts) {
      std::vector<at::Tensor> one{t};
      Finish(pg.broadcast(one, o), o.timeout, "broadcast");
    }
    return env.Undefined();
  });
}

// distAllGather(tensor, timeoutMs?) — one new tensor per rank, in rank order.
Napi::Value DistAllGather(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto& pg = Group(env);
    std::vector<at::Tensor> in{Unwrap(env, info[0], "tensor").contiguous()};
    std::vector<std::vector<at::Tensor>> out(1);
    for (int r = 0; r < pg.getSize(); r++) out[0].push_back(at::empty_like(in[0]));
    c10d::AllgatherOptions o;
    o.timeout = TimeoutArg(info[1]);
    Finish(pg.allgather(out, in, o), o.timeout, "allgather");
    auto arr = Napi::Array::New(env, out[0].size());
    for (size_t r = 0; r < out[0].size(); r++) arr.Set(static_cast<uint32_t>(r), Wrap(env, out[0][r]));
    return arr;
  });
}

Napi::Value DistBarrier(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto& pg = Group(env);
    c10d::BarrierOptions o;
    o.timeout = TimeoutArg(info[0]);
    Finish(pg.barrier(o), o.timeout, "barrier");
    return env.Undefined();
  });
}

c10d::Store& Store(Napi::Env env) {
  if (!State().store) throw Napi::Error::New(env, "distributed: no store (call distInit first)");
  return *State().store;
}

// distStoreSet(key, value) / distStoreCheck(keys) -> bool: the store, for liveness checks.
Napi::Value DistStoreSet(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    const std::string v = info[1].As<Napi::String>().Utf8Value();
    Store(env).set(info[0].As<Napi::String>().Utf8Value(), std::vector<uint8_t>(v.begin(), v.end()));
    return env.Undefined();
  });
}

Napi::Value DistStoreCheck(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto arr = info[0].As<Napi::Array>();
    std::vector<std::string> keys;
    for (uint32_t i = 0; i < arr.Length(); i++) keys.push_back(arr.Get(i).As<Napi::String>().Utf8Value());
    return Napi::Boolean::New(env, Store(env).check(keys));
  });
}

void StartBucket(Overlap& o, size_t b) {
  std::vector<at::Tensor> parts;
  for (auto& p : o.buckets[b])
    if (p.grad().defined()) parts.push_back(p.grad().reshape({-1}));
  if (parts.empty()) return;
  o.flats[b] = at::cat(parts);
  std::vector<at::Tensor> one{o.flats[b]};
  c10d::AllreduceOptions opts;
  opts.timeout = State().timeout;
  o.works[b] = State().pg->allreduce(one, opts);
}

// End of backward: start what is left (buckets with unused parameters), wait, average.
void FinishBackward(Overlap& o) {
  o.queued = false;
  for (; o.next < o.buckets.size(); o.next++) StartBucket(o, o.next);
  const double world = State().pg->getSize();
  o.bytes = 0;
  for (size_t b = 0; b < o.buckets.size(); b++) {
    o.ready[b] = 0;
    if (!o.works[b]) continue;
    Finish(o.works[b], State().timeout, "allreduce");
    o.works[b].reset();
    o.flats[b].div_(world);
    o.bytes += static_cast<double>(o.flats[b].numel() * o.flats[b].element_size());
    int64_t off = 0;
    for (auto& p : o.buckets[b]) {
      if (!p.grad().defined()) continue;
      const int64_t n = p.grad().numel();
      p.mutable_grad().copy_(o.flats[b].narrow(0, off, n).view(p.grad().sizes()));
      off += n;
    }
    o.flats[b] = at::Tensor();
  }
  o.next = 0;
}

void GradReady(size_t id, size_t b) {
  auto& o = *State().overlaps[id];
  if (!o.queued) {
    o.queued = true;
    torch::autograd::Engine::get_default_engine().queue_callback([id]() {
      FinishBackward(*State().overlaps[id]);
    });
  }
  if (++o.ready[b] < o.buckets[b].size()) return;
  while (o.next < o.buckets.size() && o.ready[o.next] == o.buckets[o.next].size())
    StartBucket(o, o.next++);
}

// distOverlapNew(buckets: tensor[][]) -> id: from now on every backward that reaches these
// parameters averages their gradients over the ranks before it returns.
Napi::Value DistOverlapNew(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    Group(env);
    auto arr = info[0].As<Napi::Array>();
    auto o = std::make_unique<Overlap>();
    auto& s = State();
    const size_t id = s.overlaps.size();
    for (uint32_t b = 0; b < arr.Length(); b++) {
      o->buckets.push_back(Tensors(env, arr.Get(b), "bucket parameters"));
      for (auto& p : o->buckets.back()) {
        if (!p.requires_grad() || !p.is_leaf())
          throw Napi::Error::New(env, "distributed: bucket parameters must be leaves that require grad");
        auto acc = torch::autograd::impl::grad_accumulator(p);
        acc->add_post_hook(std::make_unique<torch::autograd::utils::LambdaPostHook>(
            [id, b](const torch::autograd::variable_list& outs, const torch::autograd::variable_list&) {
              GradReady(id, b);
              return outs;
            }));
        o->accumulators.push_back(std::move(acc));
      }
    }
    o->ready.assign(o->buckets.size(), 0);
    o->flats.resize(o->buckets.size());
    o->works.resize(o->buckets.size());
    s.overlaps.push_back(std::move(o));
    return Napi::Number::New(env, static_cast<double>(id));
  });
}

// distOverlapBytes(id): bytes all-reduced by the last backward.
Napi::Value DistOverlapBytes(const Napi::CallbackInfo& info) {
  const auto id = static_cast<size_t>(info[0].As<Napi::Number>().Int64Value());
  auto& os = State().overlaps;
  return Napi::Number::New(info.Env(), id < os.size() ? os[id]->bytes : 0);
}

// distBackends(): the process-group backends this build has, e.g. ["gloo"] or ["gloo", "nccl"].
Napi::Value DistBackends(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto out = Napi::Array::New(env);
  uint32_t n = 0;
#if defined(USE_C10D_GLOO)
  out.Set(n++, Napi::String::New(env, "gloo"));
#endif
#if defined(KDEP_WITH_NCCL)
  out.Set(n++, Napi::String::New(env, "nccl"));
#endif
  return out;
}

}  // namespace

void ExportDist(Napi::Env env, Napi::Object exports) {
  exports.Set("distInit", Napi::Function::New(env, DistInit));
  exports.Set("distDestroy", Napi::Function::New(env, DistDestroy));
  exports.Set("distAllReduce", Napi::Function::New(env, DistAllReduce));
  exports.Set("distAllReduceDiff", Napi::Function::New(env, DistAllReduceDiff));
  exports.Set("distBroadcast", Napi::Function::New(env, DistBroadcast));
  exports.Set("distAllGather", Napi::Function::New(env, DistAllGather));
  exports.Set("distBarrier", Napi::Function::New(env, DistBarrier));
  exports.Set("distStoreSet", Napi::Function::New(env, DistStoreSet));
  exports.Set("distStoreCheck", Napi::Function::New(env, DistStoreCheck));
  exports.Set("distOverlapNew", Napi::Function::New(env, DistOverlapNew));
  exports.Set("distOverlapBytes", Napi::Function::New(env, DistOverlapBytes));
  exports.Set("distBackends", Napi::Function::New(env, DistBackends));
}

}  // namespace kdep
