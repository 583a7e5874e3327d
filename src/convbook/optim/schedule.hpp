#pragma once
/// @file schedule.hpp
/// @brief Learning-rate schedules evaluated per iteration: constant, step, multi-step, cosine,
/// one-cycle, with an optional linear warm-up in front of any of them.
#include <cstddef>
#include <string>
#include <vector>

namespace convbook {

/// @brief The shape of the learning-rate curve after the warm-up.
enum class ScheduleKind {
  Constant,  ///< lr = base_lr
  Step,      ///< lr = base_lr * gamma^floor(epoch / step_epochs)  (torch StepLR, stepped per epoch)
  MultiStep,  ///< lr = base_lr * gamma^(milestones <= epoch)  (torch MultiStepLR, per epoch)
  Cosine,     ///< base_lr * (1 + cos(pi t / T)) / 2, to 0 over the run (torch CosineAnnealingLR)
  OneCycle    ///< torch OneCycleLR with its defaults, stepped per iteration
};

/// @brief Parses "constant", "step", "multistep", "cosine" or "onecycle" (also "one-cycle").
/// @throws Error naming the value found and the names expected.
ScheduleKind parse_schedule(const std::string& name);
/// @brief The name parse_schedule accepts for `kind`.
std::string to_string(ScheduleKind kind);

/// @brief Everything a schedule needs to know about the run.
struct ScheduleOptions {
  ScheduleKind kind = ScheduleKind::Constant;  ///< the main curve
  double base_lr = 0.1;                        ///< the peak (max_lr for one-cycle)
  std::size_t epochs = 1;                      ///< epochs of the whole run, warm-up included
  std::size_t iters_per_epoch = 1;             ///< batches per epoch
  std::size_t warmup_epochs = 0;               ///< linear warm-up epochs in front of the main curve
  std::size_t step_epochs = 0;    ///< Step: decay every this many epochs (0: max(1, epochs/3))
  double gamma = 0.1;             ///< Step, MultiStep: the decay factor
  double pct_start = 0.3;         ///< OneCycle: fraction of the iterations spent going up
  double div_factor = 25;         ///< OneCycle: initial lr = base_lr / div_factor
  double final_div_factor = 1e4;  ///< OneCycle: final lr = initial lr / final_div_factor
  /// MultiStep: epochs of the whole run (warm-up included) at which lr is
  /// multiplied by gamma; strictly increasing, each in (warmup_epochs, epochs].
  std::vector<std::size_t> milestones;
};

/// @brief A learning rate for every iteration of a run.
///
/// Iteration i (0-based, counted over the whole run) gets lr_at(i). The warm-up takes the
/// first W = warmup_epochs * iters_per_epoch iterations, rising linearly as base_lr (i+1)/W;
/// the main curve then runs over the remaining iterations as if they were a run of their own.
/// MultiStep is the exception: its milestones count epochs from the start of the run, as the
/// papers give them (He et al. 2016 divide by 10 at 32k and 48k iterations, warm-up or not).
class LrSchedule {
 public:
  /// @brief Checks the options.
  /// @throws Error for zero epochs or iterations, warm-up >= epochs, base_lr <= 0, bad factors,
  /// and for MultiStep without milestones or with milestones not increasing within
  /// (warmup_epochs, epochs].
  explicit LrSchedule(const ScheduleOptions& options);
  /// @brief The learning rate of iteration `iteration` (0-based; past the end: the last value).
  double lr_at(std::size_t iteration) const;
  /// @brief epochs * iters_per_epoch.
  std::size_t total_iterations() const { return options_.epochs * options_.iters_per_epoch; }
  /// @brief The options, with step_epochs resolved.
  const ScheduleOptions& options() const { return options_; }

 private:
  double main_lr(std::size_t t, std::size_t total) const;
  ScheduleOptions options_;
};

}  // namespace convbook
