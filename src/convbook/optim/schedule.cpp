#include "convbook/optim/schedule.hpp"

#include <algorithm>
#include <cmath>

#include "convbook/error.hpp"

namespace convbook {

namespace {

std::string list_to_string(const std::vector<std::size_t>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}

// Milestones as torch's MultiStepLR wants them, but strictly increasing (a repeated milestone
// would multiply by gamma twice, which is more likely a typo than a wish) and inside the run.
void check_milestones(const ScheduleOptions& o) {
  const std::string found = "schedule: milestones=" + list_to_string(o.milestones);
  if (o.milestones.empty()) {
    throw Error("schedule: multistep needs milestones (e.g. --milestones 82,123), found none");
  }
  for (std::size_t i = 0; i < o.milestones.size(); ++i) {
    const std::size_t m = o.milestones[i];
    if (i > 0 && m <= o.milestones[i - 1]) {
      throw Error(found + ", expected strictly increasing epochs");
    }
    if (m <= o.warmup_epochs || m > o.epochs) {
      throw Error(found + ", expected each in (" + std::to_string(o.warmup_epochs) + ", " +
                  std::to_string(o.epochs) + "] (after the warm-up, within the " +
                  std::to_string(o.epochs) + " epochs); " + std::to_string(m) + " is not");
    }
  }
}

}  // namespace

ScheduleKind parse_schedule(const std::string& name) {
  if (name == "constant") return ScheduleKind::Constant;
  if (name == "step") return ScheduleKind::Step;
  if (name == "multistep") return ScheduleKind::MultiStep;
  if (name == "cosine") return ScheduleKind::Cosine;
  if (name == "onecycle" || name == "one-cycle") return ScheduleKind::OneCycle;
  throw Error("schedule: unknown name '" + name +
              "', expected one of constant, step, multistep, cosine, onecycle");
}

std::string to_string(ScheduleKind kind) {
  switch (kind) {
    case ScheduleKind::Constant:
      return "constant";
    case ScheduleKind::Step:
      return "step";
    case ScheduleKind::MultiStep:
      return "multistep";
    case ScheduleKind::Cosine:
      return "cosine";
    case ScheduleKind::OneCycle:
      return "onecycle";
  }
  return "?";
}

LrSchedule::LrSchedule(const ScheduleOptions& options) : options_(options) {
  const ScheduleOptions& o = options_;
  if (o.epochs == 0) throw Error("schedule: epochs=0, expected at least 1");
  if (o.iters_per_epoch == 0) throw Error("schedule: iters_per_epoch=0, expected at least 1");
  if (!(o.base_lr > 0) || !std::isfinite(o.base_lr)) {
    throw Error("schedule: lr=" + std::to_string(o.base_lr) + ", expected a finite number > 0");
  }
  if (o.warmup_epochs >= o.epochs) {
    throw Error("schedule: warmup=" + std::to_string(o.warmup_epochs) +
                " epochs leaves nothing of a run of " + std::to_string(o.epochs) +
                " epochs; expected warmup < epochs");
  }
  if (!(o.gamma > 0) || o.gamma > 1) {
    throw Error("schedule: gamma=" + std::to_string(o.gamma) + ", expected 0 < gamma <= 1");
  }
  if (!(o.pct_start > 0 && o.pct_start < 1)) {
    throw Error("schedule: pct_start=" + std::to_string(o.pct_start) +
                ", expected 0 < pct_start < 1");
  }
  if (!(o.div_factor >= 1) || !(o.final_div_factor >= 1)) {
    throw Error("schedule: div_factor and final_div_factor must be >= 1");
  }
  if (o.kind == ScheduleKind::MultiStep) check_milestones(o);
  if (options_.step_epochs == 0) {
    options_.step_epochs = std::max<std::size_t>(1, (o.epochs - o.warmup_epochs) / 3);
  }
}

double LrSchedule::lr_at(std::size_t iteration) const {
  const std::size_t total = total_iterations();
  const std::size_t i = std::min(iteration, total - 1);
  const std::size_t warmup = options_.warmup_epochs * options_.iters_per_epoch;
  //! [warmup]
  // Linear warm-up: tiny steps while BatchNorm statistics and momentum settle, then the main
  // curve, which sees iteration t = i - W of a run W iterations shorter.
  if (i < warmup) return options_.base_lr * double(i + 1) / double(warmup);
  return main_lr(i - warmup, total - warmup);
  //! [warmup]
}

double LrSchedule::main_lr(std::size_t t, std::size_t total) const {
  const ScheduleOptions& o = options_;
  const double pi = std::acos(-1.0);
  switch (o.kind) {
    case ScheduleKind::Constant:
      return o.base_lr;
    case ScheduleKind::Step: {
      const std::size_t epoch = t / o.iters_per_epoch;
      return o.base_lr * std::pow(o.gamma, double(epoch / o.step_epochs));
    }
    case ScheduleKind::MultiStep: {
      //! [multistep]
      // torch MultiStepLR stepped per epoch: lr = base_lr * gamma^k, k = how many milestones
      // are <= the current (0-based) epoch. The epoch counts from the start of the run, warm-up
      // included, because papers give milestones that way.
      const std::size_t epoch = (t + o.warmup_epochs * o.iters_per_epoch) / o.iters_per_epoch;
      std::size_t k = 0;
      while (k < o.milestones.size() && o.milestones[k] <= epoch) ++k;
      return o.base_lr * std::pow(o.gamma, double(k));
      //! [multistep]
    }
    case ScheduleKind::Cosine:
      return o.base_lr * 0.5 * (1.0 + std::cos(pi * double(t) / double(total)));
    case ScheduleKind::OneCycle: {
      //! [onecycle]
      // torch.optim.lr_scheduler.OneCycleLR (anneal_strategy='cos', three_phase=False):
      // from max/div up to max over the first pct_start of the run, then down to
      // max/div/final_div, each phase a half cosine between its two end points.
      const double initial = o.base_lr / o.div_factor;
      const double final_lr = initial / o.final_div_factor;
      const double up_end = o.pct_start * double(total) - 1;
      const double down_end = double(total) - 1;
      auto anneal = [pi](double from, double to, double pct) {
        return to + (from - to) / 2.0 * (std::cos(pi * pct) + 1.0);
      };
      if (double(t) <= up_end)
        return anneal(initial, o.base_lr, up_end > 0 ? double(t) / up_end : 1.0);
      if (down_end <= up_end) return o.base_lr;  // a run too short to have a second phase
      return anneal(o.base_lr, final_lr, (double(t) - up_end) / (down_end - up_end));
      //! [onecycle]
    }
  }
  return o.base_lr;
}

}  // namespace convbook
