#include "cli/bench_model.hpp"

#include "cli/model_zoo.hpp"

namespace convbook::cli {

CLI::App* add_bench_model_command(CLI::App& bench, ModelBenchOptions& o) {
  CLI::App* model = bench.add_subcommand(
      "model",
      "images/s of a whole model: a training step (forward, cross-entropy, backward, SGD "
      "momentum update) or, with --eval, inference; synthetic 3x32x32 input");
  model->add_option("--model", o.models, "model name (repeatable; see `convbook models`)");
  model->add_option("--batch-size", o.batch, "images per step (N)")->capture_default_str();
  model->add_option("--threads", o.threads, "OpenMP threads (repeatable), each measured")
      ->capture_default_str();
  model->add_flag("--eval", o.eval, "time eval-mode inference instead of a training step");
  model->add_option("--warmup", o.warmup, "untimed steps first")->capture_default_str();
  model->add_option("--repeats", o.repeats, "timed steps; the best is reported")
      ->capture_default_str();
  model->add_flag("--json", o.json,
                  "one JSON object a line: model, mode (train or eval), threads, batch, "
                  "img_per_s");
  model->add_flag("--profile", o.profile,
                  "after each measurement, a per-layer table of forward and backward time");
  return model;
}

int run_bench_model(const ModelBenchOptions& o, std::ostream& out) {
  for (const std::string& name : o.models) find_model(name);  // unknown names fail first
  return run_model_benchmark(
      o, [](const std::string& name) { return make_model(name, 10); }, out);
}

}  // namespace convbook::cli
