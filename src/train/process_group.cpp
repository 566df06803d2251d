#include "faceswap/train/process_group.h"

#include <spdlog/spdlog.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/Work.hpp>
#ifdef FACESWAP_HAVE_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#include <torch/version.h>
#ifdef FACESWAP_HAVE_NCCL
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <sstream>
#include <thread>

#include "faceswap/core/error.h"
#include "faceswap/core/fnv.h"
#include "tcp_store_options.h"

namespace faceswap::train {
namespace {

using Clock = std::chrono::steady_clock;

// LibTorch 2.0 split c10d::Backend (one library's collectives: Gloo, NCCL) off
// c10d::ProcessGroup; in 1.13 the backends are process groups themselves. The
// collectives used here have the same signatures in both.
#if TORCH_VERSION_MAJOR >= 2
using Backend = c10d::Backend;
#else
using Backend = c10d::ProcessGroup;
#endif

// DDP's default bucket is 25 MB; smaller models (lite: 25 MB of gradients) still get about four
// buckets so that the first ones travel while backward computes the rest.
constexpr int64_t kMaxBucketBytes = 25 << 20;
constexpr int64_t kMinBucketBytes = 1 << 20;
constexpr int64_t kTargetBuckets = 4;

std::chrono::milliseconds Milliseconds(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(seconds * 1000)));
}

// The first line of an exception's message, without LibTorch's backtrace.
std::string OneLine(const std::exception& e) {
  const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
  std::string text = c10_error ? c10_error->what_without_backtrace() : e.what();
  if (const auto eol = text.find('\n'); eol != std::string::npos) text.resize(eol);
  return text;
}

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
}

#ifdef FACESWAP_HAVE_GLOO
// Gloo binds to GLOO_SOCKET_IFNAME's interfaces when set (as in PyTorch), to the loopback
// for a job on one machine, else to the address this host's name resolves to.
std::vector<std::shared_ptr<::gloo::transport::Device>> GlooDevices(const std::string& master_addr) {
  std::vector<std::shared_ptr<::gloo::transport::Device>> devices;
  if (const char* names = std::getenv("GLOO_SOCKET_IFNAME"); names && *names) {
    std::stringstream list(names);
    std::string name;
    while (std::getline(list, name, ',')) {
      if (!name.empty()) devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(name));
    }
  } else if (IsLoopback(master_addr)) {
    devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
  } else {
    devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  }
  return devices;
}
#endif

// Every rank adds itself to a counter in the store and waits until all have: a clear
// "waiting for ranks" message instead of a silent rendezvous, and its own long timeout.
void WaitForAllRanks(c10d::Store& store, int rank, int size) {
  const std::string key = "faceswap/joined";
  store.add(key, 1);
  const auto start = Clock::now();
  auto last_note = start;
  while (true) {
    const int64_t joined = store.add(key, 0);
    if (joined >= size) return;
    const auto now = Clock::now();
    if (now - start > Milliseconds(ProcessGroup::kJoinTimeoutSeconds)) {
      throw DistributedError("distributed training: rank " + std::to_string(rank) + " waited " +
                             std::to_string(static_cast<int>(ProcessGroup::kJoinTimeoutSeconds / 60)) +
                             " minutes and only " + std::to_string(joined) + " of " + std::to_string(size) +
                             " ranks joined");
    }
    if (now - last_note > std::chrono::seconds(30)) {
      spdlog::info("waiting for the other ranks: {} of {} joined", joined, size);
      last_note = now;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// One flat gradient buffer and the parameters it carries.
struct Bucket {
  torch::Tensor flat;
  std::vector<size_t> parameters;
  size_t pending = 0;  // parameters whose gradient has not arrived in this backward
  c10::intrusive_ptr<c10d::Work> work;
};

struct Slot {
  size_t bucket = 0;
  int64_t offset = 0;
};

}  // namespace

struct ProcessGroup::Impl {
  DistributedOptions options;
  torch::Device device{torch::kCPU};
  torch::Device comm_device{torch::kCPU};  // where collective buffers live: the GPU for NCCL
  std::string backend_name = "none";
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<Backend> backend;
  bool broken = false;  // a collective failed: the backend's threads may still be stuck

  // Gradient buckets; the hooks run on autograd's thread, hence the mutex.
  std::mutex mutex;
  std::vector<torch::Tensor> parameters;
  std::vector<Slot> slots;
  std::vector<char> arrived;
  std::vector<Bucket> buckets;
  size_t next_to_launch = 0;
  CommunicationTime time;

  ~Impl() {
    // After a failed collective the backend's worker threads can sit in a receive until
    // their own timeout, and destroying it would wait for them: the process is about to
    // exit with DistributedError, so the backend is left to the exit instead.
    if (broken && backend) backend.release();
  }

  [[noreturn]] void Fail(const std::string& what, const std::exception& e) {
    broken = true;
    throw DistributedError("distributed training: rank " + std::to_string(options.rank) + " lost the other ranks (" +
                           what + ": " + OneLine(e) + "); a rank died or did not answer within " +
                           fmt::format("{:g}", options.timeout_seconds) + " s");
  }

  void Wait(c10::intrusive_ptr<c10d::Work>& work, const std::string& what) {
    try {
      work->wait();
    } catch (const std::exception& e) {
      Fail(what, e);
    }
    work.reset();
  }

  void AllReduce(torch::Tensor& tensor, const std::string& what) {
    std::vector<torch::Tensor> tensors{tensor};
    c10::intrusive_ptr<c10d::Work> work;
    try {
      work = backend->allreduce(tensors);
    } catch (const std::exception& e) {
      Fail(what, e);
    }
    Wait(work, what);
  }

  void Broadcast(torch::Tensor& tensor, const std::string& what) {
    std::vector<torch::Tensor> tensors{tensor};
    c10::intrusive_ptr<c10d::Work> work;
    try {
      work = backend->broadcast(tensors, c10d::BroadcastOptions{});
    } catch (const std::exception& e) {
      Fail(what, e);
    }
    Wait(work, what);
  }

  void Launch(Bucket& bucket) {
    std::vector<torch::Tensor> tensors{bucket.flat};
    try {
      bucket.work = backend->allreduce(tensors);
    } catch (const std::exception& e) {
      Fail("gradient all-reduce", e);
    }
  }

  // Starts every bucket that is complete and whose predecessors have all started.
  void LaunchReadyBuckets() {
    while (next_to_launch < buckets.size() && buckets[next_to_launch].pending == 0) Launch(buckets[next_to_launch++]);
  }

  torch::Tensor SlotView(size_t index) {
    const Slot& slot = slots[index];
    const torch::Tensor& p = parameters[index];
    return buckets[slot.bucket].flat.narrow(0, slot.offset, p.numel()).view(p.sizes());
  }

  void OnGradient(size_t index, const torch::Tensor& gradient) {
    std::lock_guard<std::mutex> lock(mutex);
    // Autograd sums a leaf's incoming gradients before its hooks run: one call per backward.
    if (arrived[index]) throw Error(ExitCode::kInternal, "distributed training: a parameter's gradient arrived twice");
    torch::NoGradGuard no_grad;
    SlotView(index).copy_(gradient);
    arrived[index] = 1;
    if (--buckets[slots[index].bucket].pending == 0) LaunchReadyBuckets();
  }
};

ProcessGroup::ProcessGroup() = default;
ProcessGroup::~ProcessGroup() = default;
ProcessGroup::ProcessGroup(ProcessGroup&&) noexcept = default;
ProcessGroup& ProcessGroup::operator=(ProcessGroup&&) noexcept = default;

namespace {

// Runs one step of joining the group; a c10d failure in it becomes one line of
// DistributedError saying which step and where.
template <typename Step>
void JoinStep(const DistributedOptions& options, const std::string& failure, Step&& step) {
  try {
    step();
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw DistributedError("distributed training: rank " + std::to_string(options.rank) + " " + failure + " (" +
                           OneLine(e) + ")");
  }
}

}  // namespace

ProcessGroup::ProcessGroup(const DistributedOptions& options, torch::Device device) : impl_(std::make_unique<Impl>()) {
  options.Check();
  Impl& g = *impl_;
  g.options = options;
  g.device = device;
  const std::string where = options.master_addr + ":" + std::to_string(options.master_port);
  JoinStep(options, "cannot reach the rendezvous store at " + where, [&] {
    c10d::TCPStoreOptions store_options = detail::TcpStoreOptions();
    store_options.port = static_cast<uint16_t>(options.master_port);
    store_options.isServer = !options.launcher_hosts_store && options.rank == 0;
    store_options.waitWorkers = false;
    store_options.timeout = Milliseconds(kJoinTimeoutSeconds);
    auto tcp = c10::make_intrusive<c10d::TCPStore>(options.master_addr, store_options);
    // A store hosted by torchrun (or --nproc) is shared by its restarts; each attempt has
    // its own keys (torch.distributed does the same).
    g.store = options.launcher_hosts_store
                  ? c10::intrusive_ptr<c10d::Store>(
                        c10::make_intrusive<c10d::PrefixStore>("/worker/attempt_" + options.attempt, tcp))
                  : c10::intrusive_ptr<c10d::Store>(tcp);
  });
  JoinStep(options, "lost the rendezvous store at " + where + " while waiting for the other ranks",
           [&] { WaitForAllRanks(*g.store, options.rank, options.world_size); });
  auto group_store = c10::make_intrusive<c10d::PrefixStore>("faceswap/train", g.store);
  const auto timeout = Milliseconds(options.timeout_seconds);
  JoinStep(options, std::string("cannot set up ") + (device.is_cuda() ? "NCCL" : "Gloo"), [&] {
    if (device.is_cuda()) {
#ifdef FACESWAP_HAVE_NCCL
      // One GPU per rank: the LOCAL_RANK-th of those visible (a Slurm task may see only
      // its own, as GPU 0). Two ranks on one GPU are refused by NCCL itself.
      const int gpus = static_cast<int>(torch::cuda::device_count());
      if (gpus < 1) throw DeviceError("distributed training: no CUDA GPU visible to rank " + std::to_string(options.rank));
      const auto index = static_cast<c10::DeviceIndex>(options.local_rank % gpus);
      c10::cuda::set_device(index);
      g.device = g.comm_device = torch::Device(torch::kCUDA, index);
      // Without blocking wait a dead rank leaves NCCL's wait() hanging; with it, wait()
      // throws after the timeout. LibTorch 2.2 renamed the variable; both are set.
      setenv("NCCL_BLOCKING_WAIT", "1", 0);
      setenv("TORCH_NCCL_BLOCKING_WAIT", "1", 0);
      auto nccl = c10d::ProcessGroupNCCL::Options::create();
      nccl->timeout = timeout;
      g.backend = c10::make_intrusive<c10d::ProcessGroupNCCL>(group_store, options.rank, options.world_size, nccl);
      g.backend_name = "nccl";
#else
      throw DeviceError("distributed training on CUDA needs NCCL, and this build has none (nccl.h was not found "
                        "when it was configured: set NCCL_ROOT)");
#endif
    } else {
#ifdef FACESWAP_HAVE_GLOO
      auto gloo = c10d::ProcessGroupGloo::Options::create(timeout);
      gloo->devices = GlooDevices(options.master_addr);
      g.backend = c10::make_intrusive<c10d::ProcessGroupGloo>(group_store, options.rank, options.world_size, gloo);
      g.backend_name = "gloo";
#else
      throw DeviceError("distributed training on the CPU needs Gloo, and this build has none (its headers were "
                        "missing: Debian's libgloo-dev); train on CUDA GPUs or alone");
#endif
    }
  });
}

int ProcessGroup::rank() const { return impl_ ? impl_->options.rank : 0; }
int ProcessGroup::size() const { return impl_ ? impl_->options.world_size : 1; }
bool ProcessGroup::joined() const { return impl_ != nullptr; }
std::string ProcessGroup::backend() const { return impl_ ? impl_->backend_name : "none"; }

void ProcessGroup::BroadcastState(torch::nn::Module& net, torch::optim::Optimizer& optimizer,
                                  std::vector<int64_t>& numbers) {
  if (!impl_) return;
  Impl& g = *impl_;
  torch::NoGradGuard no_grad;

  torch::Tensor count = torch::tensor(numbers, torch::kInt64).to(g.comm_device);
  g.Broadcast(count, "broadcast of the step");
  count = count.cpu();
  for (size_t i = 0; i < numbers.size(); ++i) numbers[i] = count[static_cast<int64_t>(i)].item<int64_t>();

  // Weights: one flat buffer per dtype, broadcast whole.
  std::vector<torch::Tensor> tensors = net.parameters();
  for (const auto& b : net.buffers()) tensors.push_back(b);
  std::vector<torch::ScalarType> dtypes;
  for (const auto& t : tensors) {
    if (std::find(dtypes.begin(), dtypes.end(), t.scalar_type()) == dtypes.end()) dtypes.push_back(t.scalar_type());
  }
  for (const torch::ScalarType dtype : dtypes) {
    std::vector<torch::Tensor> same;
    for (const auto& t : tensors) {
      if (t.scalar_type() == dtype) same.push_back(t.reshape({-1}).to(g.comm_device));
    }
    torch::Tensor flat = torch::cat(same);
    g.Broadcast(flat, "broadcast of the weights");
    int64_t offset = 0;
    for (auto& t : tensors) {
      if (t.scalar_type() != dtype) continue;
      t.copy_(flat.narrow(0, offset, t.numel()).view(t.sizes()));
      offset += t.numel();
    }
  }

  // Optimiser state (Adam's moments after a resume) through its own serialisation.
  std::string bytes;
  if (g.options.rank == 0) {
    torch::serialize::OutputArchive archive;
    optimizer.save(archive);
    std::ostringstream out;
    archive.save_to(out);
    bytes = out.str();
  }
  torch::Tensor length = torch::tensor({static_cast<int64_t>(bytes.size())}, torch::kInt64).to(g.comm_device);
  g.Broadcast(length, "broadcast of the optimiser state");
  const int64_t n = length.cpu().item<int64_t>();
  torch::Tensor data = torch::zeros({n}, torch::kUInt8);
  if (g.options.rank == 0) std::memcpy(data.data_ptr(), bytes.data(), bytes.size());
  data = data.to(g.comm_device);
  g.Broadcast(data, "broadcast of the optimiser state");
  if (g.options.rank != 0) {
    data = data.cpu();
    std::istringstream in(std::string(static_cast<const char*>(data.data_ptr()), static_cast<size_t>(n)));
    torch::serialize::InputArchive archive;
    archive.load_from(in, g.device);
    optimizer.load(archive);
  }
}

void ProcessGroup::WatchGradients(const std::vector<torch::Tensor>& parameters) {
  if (!impl_) return;
  Impl& g = *impl_;
  std::lock_guard<std::mutex> lock(g.mutex);
  for (const auto& p : parameters) {
    if (p.requires_grad()) g.parameters.push_back(p);
  }
  int64_t total = 0;
  for (const auto& p : g.parameters) total += p.numel() * static_cast<int64_t>(p.element_size());
  const int64_t cap = std::clamp(total / kTargetBuckets, kMinBucketBytes, kMaxBucketBytes);

  // Reverse order: backward reaches the last layers first.
  g.slots.assign(g.parameters.size(), Slot{});
  g.arrived.assign(g.parameters.size(), 0);
  int64_t bytes = 0;
  std::vector<std::vector<size_t>> groups;
  for (size_t k = g.parameters.size(); k-- > 0;) {
    const auto& p = g.parameters[k];
    const bool fits = !groups.empty() && bytes + p.numel() * p.element_size() <= cap &&
                      g.parameters[groups.back().front()].scalar_type() == p.scalar_type();
    if (!fits) {
      groups.emplace_back();
      bytes = 0;
    }
    groups.back().push_back(k);
    bytes += p.numel() * p.element_size();
  }
  for (auto& members : groups) {
    Bucket bucket;
    int64_t offset = 0;
    for (size_t k : members) {
      g.slots[k] = {g.buckets.size(), offset};
      offset += g.parameters[k].numel();
    }
    bucket.flat = torch::zeros({offset}, g.parameters[members.front()].options().requires_grad(false));
    bucket.parameters = std::move(members);
    bucket.pending = bucket.parameters.size();
    g.buckets.push_back(std::move(bucket));
  }
  Impl* state = &g;  // the hooks live as long as the network; the trainer keeps the group longer
  for (size_t k = 0; k < g.parameters.size(); ++k) {
    g.parameters[k].register_hook([state, k](const torch::Tensor& gradient) { state->OnGradient(k, gradient); });
  }
}

void ProcessGroup::AverageGradients() {
  if (!impl_ || impl_->buckets.empty()) return;
  Impl& g = *impl_;
  const auto start = Clock::now();
  {
    // Parameters that took no part in this backward contribute zeros; the buckets they
    // held back start now, still in order.
    std::lock_guard<std::mutex> lock(g.mutex);
    torch::NoGradGuard no_grad;
    g.time.buckets_started_in_backward += static_cast<int64_t>(g.next_to_launch);
    for (size_t k = 0; k < g.parameters.size(); ++k) {
      if (g.arrived[k]) continue;
      g.SlotView(k).zero_();
      g.arrived[k] = 1;
      --g.buckets[g.slots[k].bucket].pending;
    }
    g.LaunchReadyBuckets();
  }
  torch::NoGradGuard no_grad;
  const double scale = 1.0 / g.options.world_size;
  for (Bucket& bucket : g.buckets) {
    g.Wait(bucket.work, "gradient all-reduce");
    bucket.flat.mul_(scale);
    bucket.pending = bucket.parameters.size();
  }
  for (size_t k = 0; k < g.parameters.size(); ++k) {
    torch::Tensor& grad = g.parameters[k].mutable_grad();
    if (grad.defined()) {
      grad.copy_(g.SlotView(k));
    } else {
      grad = g.SlotView(k).clone();
    }
    g.arrived[k] = 0;
  }
  g.next_to_launch = 0;
  g.time.gradient_wait_seconds += std::chrono::duration<double>(Clock::now() - start).count();
}

StepAgreement ProcessGroup::Agree(const std::vector<double>& losses, bool stop_signal, bool time_up) {
  StepAgreement agreed{losses, stop_signal, time_up};
  if (!impl_) return agreed;
  Impl& g = *impl_;
  const auto start = Clock::now();
  std::vector<double> values = losses;
  values.push_back(stop_signal ? 1 : 0);
  values.push_back(time_up ? 1 : 0);
  torch::Tensor sum = torch::tensor(values, torch::kFloat64).to(g.comm_device);
  g.AllReduce(sum, "agreement on the step");
  sum = sum.cpu();
  for (size_t i = 0; i < losses.size(); ++i) {
    agreed.losses[i] = sum[static_cast<int64_t>(i)].item<double>() / g.options.world_size;
  }
  agreed.stop_signal = sum[static_cast<int64_t>(losses.size())].item<double>() > 0;
  agreed.time_up = sum[static_cast<int64_t>(losses.size() + 1)].item<double>() > 0;
  g.time.agreement_seconds += std::chrono::duration<double>(Clock::now() - start).count();
  ++g.time.steps;
  return agreed;
}

std::vector<uint64_t> ProcessGroup::AllGather(uint64_t value) {
  if (!impl_) return {value};
  Impl& g = *impl_;
  // Each rank fills its own slot; the sum of the others' zeros gathers them.
  torch::Tensor slots = torch::zeros({g.options.world_size}, torch::kInt64);
  int64_t as_signed = 0;
  std::memcpy(&as_signed, &value, sizeof value);
  slots[g.options.rank] = as_signed;
  slots = slots.to(g.comm_device);
  g.AllReduce(slots, "gathering of a value");
  slots = slots.cpu();
  std::vector<uint64_t> values(static_cast<size_t>(g.options.world_size));
  for (size_t r = 0; r < values.size(); ++r) {
    const int64_t v = slots[static_cast<int64_t>(r)].item<int64_t>();
    std::memcpy(&values[r], &v, sizeof v);
  }
  return values;
}

const CommunicationTime& ProcessGroup::communication() const {
  static const CommunicationTime none;
  return impl_ ? impl_->time : none;
}

int64_t ProcessGroup::bucket_count() const { return impl_ ? static_cast<int64_t>(impl_->buckets.size()) : 0; }

int64_t ProcessGroup::gradient_bytes() const {
  if (!impl_) return 0;
  int64_t bytes = 0;
  for (const auto& b : impl_->buckets) bytes += b.flat.numel() * static_cast<int64_t>(b.flat.element_size());
  return bytes;
}

uint64_t WeightsChecksum(torch::nn::Module& net) {
  uint64_t hash = core::kFnvOffsetBasis;
  auto mix = [&](const torch::Tensor& t) {
    const torch::Tensor cpu = t.detach().to(torch::kCPU).contiguous();
    core::Fnv1aMix(hash, cpu.data_ptr(), static_cast<size_t>(cpu.numel()) * cpu.element_size());
  };
  for (const auto& p : net.parameters()) mix(p);
  for (const auto& b : net.buffers()) mix(b);
  return hash;
}

}  // namespace faceswap::train
