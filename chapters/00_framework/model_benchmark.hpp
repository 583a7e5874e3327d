#pragma once
/// @file model_benchmark.hpp
/// @brief `convbook bench model`: images per second of a whole model's training step (forward,
/// cross-entropy, backward, SGD momentum update) or of its eval-mode inference, and a per-layer
/// profile of where the step's time goes.
///
/// Legend: N batch. The input is synthetic (standard normal 3x32x32 images, uniform labels),
/// so the speed does not depend on a dataset; the step is the one `convbook train` runs, with
/// its default SGD (lr 0.1, momentum 0.9, weight decay 5e-4).
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "convbook/module.hpp"
#include "convbook/profile.hpp"

namespace convbook {

/// @brief Wall seconds of each of `count` calls of `f`, in order.
template <typename F>
std::vector<double> call_seconds(int count, F&& f) {
  std::vector<double> s;
  for (int i = 0; i < count; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    s.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return s;
}

/// @brief What `convbook bench model` runs.
struct ModelBenchOptions {
  std::vector<std::string> models;    ///< model names, each measured
  std::size_t batch = 128;            ///< N
  std::vector<int> threads = {1, 2};  ///< OpenMP thread counts, each measured
  bool eval = false;                  ///< eval-mode inference instead of a training step
  int warmup = 2;                     ///< untimed steps first (workspaces grow, pages fault in)
  int repeats = 5;                    ///< timed steps; the best is reported
  bool json = false;                  ///< one JSON object a line instead of a table
  bool profile = false;               ///< also print the per-layer table of each measurement
};

/// @brief One measurement: the JSON keys of `convbook bench model --json`.
struct ModelBenchResult {
  std::string model;            ///< the model name
  std::string mode;             ///< "train" or "eval"
  int threads = 1;              ///< OpenMP threads
  std::size_t batch = 0;        ///< N
  double img_per_s = 0;         ///< N / best step time
  double step_ms = 0;           ///< best step time in milliseconds
  double profiled_step_ms = 0;  ///< mean step time of the profiled series (0: not profiled)
};

/// @brief Builds the model called `name` (the CLI passes its model zoo).
using ModelMaker = std::function<ModulePtr(const std::string& name)>;

/// @brief Checks the options before anything runs.
/// @throws Error naming the option, the value found and the value expected: no model, a batch
///   of 0, threads < 1, warmup < 0, repeats < 1, or --profile together with --json.
void check_model_bench_options(const ModelBenchOptions& options);

/// @brief The step `convbook bench model` times: a training step (forward, loss, zero_grad,
/// backward, SGD update) or, in eval mode, one forward. Owns the optimizer and the synthetic
/// batch so that a step allocates only what the layers allocate.
class ModelStep {
 public:
  /// @brief Prepares `model` (which must outlive this object) for batches of `batch` images;
  /// switches it to training or eval mode.
  ModelStep(Module& model, std::size_t batch, bool eval);
  ~ModelStep();
  ModelStep(const ModelStep&) = delete;
  ModelStep& operator=(const ModelStep&) = delete;
  /// @brief Runs one step; returns its loss (0 in eval mode).
  double run();

 private:
  struct State;
  Module& model_;
  bool eval_;
  std::unique_ptr<State> state_;
};

/// @brief Measures one model at one thread count (sets OpenMP's thread count).
/// When `profiler` is given, a second series of `repeats` steps runs with it active, after the
/// timed one, so profiling never slows the reported speed.
ModelBenchResult measure_model(Module& model, const std::string& name,
                               const ModelBenchOptions& options, int threads,
                               Profiler* profiler = nullptr);

/// @brief The per-layer table of a profiled run: one row per timed module (its state_dict
/// prefix, its type, forward and backward ms per step, share of the step), then the same
/// summed by layer type, slowest first, then the untimed rest of the step.
/// @param model the model that was profiled (its module tree names the rows)
/// @param profiler the profiler that was active during the steps
/// @param steps how many steps the profiler saw
/// @param step_ms the step time to take shares of (the profiled steps' mean)
std::string profile_table(Module& model, const Profiler& profiler, std::size_t steps,
                          double step_ms);

/// @brief One measurement as the JSON line `{"model": ..., "mode": ..., "threads": ...,
/// "batch": ..., "img_per_s": ...}`.
std::string to_json(const ModelBenchResult& r);

/// @brief Runs every model at every thread count and writes a table (with --profile, a
/// per-layer table after each row) or JSON lines to `out`.
/// @return 0
/// @throws Error from check_model_bench_options or from `make` (an unknown model name).
int run_model_benchmark(const ModelBenchOptions& options, const ModelMaker& make,
                        std::ostream& out);

}  // namespace convbook
