#include "chapters/00_framework/model_benchmark.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "convbook/error.hpp"
#include "convbook/layers/loss.hpp"
#include "convbook/optim/sgd.hpp"
#include "convbook/random.hpp"
#include "convbook/train/trainer.hpp"

namespace convbook {

void check_model_bench_options(const ModelBenchOptions& o) {
  if (o.models.empty()) throw Error("bench model: no --model given, expected at least one");
  if (o.batch == 0) throw Error("bench model: --batch-size=0, expected at least 1");
  if (o.threads.empty()) throw Error("bench model: no --threads value, expected at least one");
  for (int t : o.threads) {
    if (t < 1) throw Error("bench model: --threads=" + std::to_string(t) + ", expected >= 1");
  }
  if (o.warmup < 0)
    throw Error("bench model: --warmup=" + std::to_string(o.warmup) + ", expected >= 0");
  if (o.repeats < 1)
    throw Error("bench model: --repeats=" + std::to_string(o.repeats) + ", expected >= 1");
  if (o.profile && o.json) {
    throw Error(
        "bench model: --profile prints a table, expected it without --json (the JSON "
        "lines hold exactly model, mode, threads, batch, img_per_s)");
  }
}

struct ModelStep::State {
  Tensor images;
  std::vector<int> labels;
  CrossEntropyLoss criterion;
  std::unique_ptr<SGD> optimizer;
};

ModelStep::ModelStep(Module& model, std::size_t batch, bool eval)
    : model_(model), eval_(eval), state_(std::make_unique<State>()) {
  model_.train(!eval_);
  // Probe the class count with one image, then draw a synthetic batch: N(0, 1) pixels, which is
  // what normalized CIFAR images look like to the first layer, and uniform labels.
  Rng rng(0);
  state_->images = Tensor({1, 3, 32, 32});
  for (Scalar& v : state_->images) v = Scalar(rng.normal());
  model_.eval();
  const std::size_t classes = shape_of(model_.forward(state_->images))[1];
  model_.train(!eval_);
  state_->images = Tensor({batch, 3, 32, 32});
  for (Scalar& v : state_->images) v = Scalar(rng.normal());
  state_->labels.resize(batch);
  for (int& label : state_->labels) label = int(rng.below(classes));
  // The optimizer `convbook train` builds, with its default hyper-parameters.
  const TrainOptions defaults;
  SgdOptions sgd;
  sgd.lr = defaults.lr;
  sgd.momentum = defaults.momentum;
  sgd.weight_decay = defaults.weight_decay;
  sgd.nesterov = defaults.nesterov;
  state_->optimizer = std::make_unique<SGD>(model_, sgd);
}

ModelStep::~ModelStep() = default;

//! [model-step]
double ModelStep::run() {
  if (eval_) {
    const NoGradGuard no_grad;  // as PyTorch's eval under torch.no_grad()
    model_.forward(state_->images);  // inference: no loss, no backward, running BN statistics
    return 0;
  }
  // The training step of `convbook train`: forward, loss, backward, SGD momentum update.
  const Tensor logits = model_.forward(state_->images);
  const double loss = state_->criterion.forward(logits, state_->labels);
  model_.zero_grad();
  model_.backward(state_->criterion.backward());
  state_->optimizer->step();
  return loss;
}
//! [model-step]

namespace {

std::string layer_type(const Module& m) {
  const std::string r = m.repr();
  return r.substr(0, r.find_first_of("(\n"));
}

struct ProfileRow {
  std::string name, type;
  double forward_ms = 0, backward_ms = 0;
  std::size_t count = 1;
};

// Every timed module under `m`, depth first, named by its state_dict prefix.
void collect_rows(const Module& m, const std::string& name, const Profiler& profiler,
                  std::size_t steps, std::vector<ProfileRow>& rows) {
  if (profiler.has(&m)) {
    const ModuleTime t = profiler.time_of(&m);
    rows.push_back({name, layer_type(m), 1e3 * t.forward_s / double(steps),
                    1e3 * t.backward_s / double(steps)});
  }
  for (const auto& [child_name, child] : m.children()) {
    collect_rows(*child, name.empty() ? child_name : name + "." + child_name, profiler, steps,
                 rows);
  }
}

}  // namespace

ModelBenchResult measure_model(Module& model, const std::string& name, const ModelBenchOptions& o,
                               int threads, Profiler* profiler) {
  omp_set_num_threads(threads);
  ModelStep step(model, o.batch, o.eval);
  call_seconds(o.warmup, [&] { step.run(); });
  const std::vector<double> s = call_seconds(o.repeats, [&] { step.run(); });
  // The best step, not the mean: on a shared machine other processes only ever add time.
  const double best = *std::min_element(s.begin(), s.end());
  ModelBenchResult r;
  if (profiler) {
    profiler->clear();
    profiler->start();
    const std::vector<double> p = call_seconds(o.repeats, [&] { step.run(); });
    profiler->stop();
    for (double seconds : p) r.profiled_step_ms += 1e3 * seconds / double(p.size());
  }
  r.model = name;
  r.mode = o.eval ? "eval" : "train";
  r.threads = threads;
  r.batch = o.batch;
  r.step_ms = 1e3 * best;
  r.img_per_s = double(o.batch) / best;
  return r;
}

std::string profile_table(Module& model, const Profiler& profiler, std::size_t steps,
                          double step_ms) {
  if (steps == 0) throw Error("profile_table: steps=0, expected at least 1");
  std::vector<ProfileRow> rows;
  collect_rows(model, "", profiler, steps, rows);
  // Timed modules may nest (a block that times itself holds timed layers): only the innermost
  // ones add up to the step, so the totals count the rows without timed children.
  std::vector<ProfileRow> by_type;
  double timed_ms = 0;
  for (const ProfileRow& r : rows) {
    const std::string prefix = r.name.empty() ? "" : r.name + ".";  // "": the model itself
    bool nested = false;
    for (const ProfileRow& other : rows)
      nested |= other.name.size() > r.name.size() && other.name.rfind(prefix, 0) == 0;
    if (nested) continue;
    timed_ms += r.forward_ms + r.backward_ms;
    auto it = std::find_if(by_type.begin(), by_type.end(),
                           [&r](const ProfileRow& t) { return t.type == r.type; });
    if (it == by_type.end()) {
      by_type.push_back({r.type, r.type, r.forward_ms, r.backward_ms, 1});
    } else {
      it->forward_ms += r.forward_ms;
      it->backward_ms += r.backward_ms;
      ++it->count;
    }
  }
  std::stable_sort(by_type.begin(), by_type.end(), [](const ProfileRow& a, const ProfileRow& b) {
    return a.forward_ms + a.backward_ms > b.forward_ms + b.backward_ms;
  });

  std::size_t wn = 7;  // "(model)"
  for (const ProfileRow& r : rows) wn = std::max(wn, r.name.size());
  std::ostringstream out;
  char line[256];
  auto emit = [&](const std::string& name, const std::string& type, const std::string& count,
                  double fwd, double bwd) {
    const double total = fwd + bwd;
    std::snprintf(line, sizeof line, "%-*s  %-18s %5s %10.3f %10.3f %10.3f %6.1f%%\n", int(wn),
                  name.c_str(), type.c_str(), count.c_str(), fwd, bwd, total,
                  100 * total / std::max(step_ms, 1e-12));
    out << line;
  };
  std::snprintf(line, sizeof line, "%-*s  %-18s %5s %10s %10s %10s %7s\n", int(wn), "layer", "type",
                "", "fwd ms", "bwd ms", "total ms", "share");
  const std::string header = line;
  out << header << std::string(header.size() - 1, '-') << '\n';
  for (const ProfileRow& r : rows)
    emit(r.name.empty() ? "(model)" : r.name, r.type, "", r.forward_ms, r.backward_ms);
  out << "\nby type, slowest first:\n" << header << std::string(header.size() - 1, '-') << '\n';
  for (const ProfileRow& t : by_type)
    emit("", t.type, std::to_string(t.count) + "x", t.forward_ms, t.backward_ms);
  std::snprintf(line, sizeof line,
                "timed layers %.3f ms of a %.3f ms step; untimed %.3f ms (%.1f%%): the loss, "
                "zero_grad, the SGD update and block glue (sums, concatenations)\n",
                timed_ms, step_ms, step_ms - timed_ms,
                100 * (step_ms - timed_ms) / std::max(step_ms, 1e-12));
  out << line;
  return out.str();
}

std::string to_json(const ModelBenchResult& r) {
  nlohmann::ordered_json j;
  j["model"] = r.model;
  j["mode"] = r.mode;
  j["threads"] = r.threads;
  j["batch"] = r.batch;
  j["img_per_s"] = std::round(r.img_per_s * 10) / 10;
  return j.dump();
}

int run_model_benchmark(const ModelBenchOptions& o, const ModelMaker& make, std::ostream& out) {
  check_model_bench_options(o);
  char line[256];
  std::snprintf(line, sizeof line, "%-24s %-5s %7s %6s %10s %10s\n", "model", "mode", "threads",
                "batch", "ms/step", "img/s");
  const std::string header = line;
  bool first_row = true;  // the header comes with the first row (nothing is printed before a
                          // model is built), and again above each row between profiles
  for (const std::string& name : o.models) {
    for (int threads : o.threads) {
      manual_seed(0);
      ModulePtr model = make(name);
      Profiler profiler;
      const ModelBenchResult r =
          measure_model(*model, name, o, threads, o.profile ? &profiler : nullptr);
      if (o.json) {
        out << to_json(r) << '\n';
      } else {
        if (first_row || o.profile) out << header;
        std::snprintf(line, sizeof line, "%-24s %-5s %7d %6zu %10.2f %10.1f\n", r.model.c_str(),
                      r.mode.c_str(), r.threads, r.batch, r.step_ms, r.img_per_s);
        out << line;
        first_row = false;
      }
      if (o.profile) {
        // Shares are of the profiled steps' own mean, so the rows and the rest add up to 100%.
        out << '\n'
            << profile_table(*model, profiler, std::size_t(o.repeats), r.profiled_step_ms) << '\n';
      }
      out.flush();
    }
  }
  return 0;
}

}  // namespace convbook
