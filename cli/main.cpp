/// @file main.cpp
/// @brief The `convbook` program: train, eval, info, plot, models, bench.
///
/// Every failure a user can cause (bad flag, missing file, diverging run) ends with one line
/// "convbook: error: ..." on stderr and exit code 2; no stack trace.
#include <omp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <string>
#include <vector>

#include "cli/bench.hpp"
#include "cli/forward.hpp"
#include "cli/info.hpp"
#include "cli/model_zoo.hpp"
#include "cli/train_config.hpp"
#include "convbook/data/cifar.hpp"
#include "convbook/error.hpp"
#include "convbook/io/checkpoint.hpp"
#include "convbook/plot/curves.hpp"
#include "convbook/random.hpp"
#include "convbook/train/trainer.hpp"

namespace fs = std::filesystem;
using namespace convbook;

namespace {

int run_models() {
  std::size_t width = 0;  // the longest name, so the columns line up whatever the names
  for (const cli::ModelEntry& e : cli::model_zoo()) width = std::max(width, e.name.size());
  for (const cli::ModelEntry& e : cli::model_zoo()) {
    std::cout << std::left << std::setw(int(width + 2)) << e.name << std::setw(16) << e.chapter
              << e.description << '\n';
  }
  return 0;
}

void set_threads(int threads) {
  if (threads < 0) throw Error("--threads=" + std::to_string(threads) + ", expected >= 0");
  if (threads > 0) omp_set_num_threads(threads);
}

}  // namespace

int main(int argc, char** argv) {
  convbook::keep_freed_memory();  // every step reuses the last step's pages (tensor.hpp)
  CLI::App app{"convbook: a from-scratch C++ deep-learning framework you can read like a book"};
  app.require_subcommand(1);

  // train
  TrainOptions t;
  auto* train = app.add_subcommand("train", "train a model on CIFAR-10, writing runs/<name>/");
  train->add_option("--model", t.model, "model name (see `convbook models`)")
      ->capture_default_str();
  train->add_option("--epochs", t.epochs, "epochs")->capture_default_str();
  train->add_option("--batch-size", t.batch_size, "examples per SGD step")->capture_default_str();
  train->add_option("--lr", t.lr, "peak learning rate")->capture_default_str();
  train->add_option("--momentum", t.momentum, "SGD momentum")->capture_default_str();
  train->add_option("--weight-decay", t.weight_decay, "L2 weight decay")->capture_default_str();
  train->add_flag("--nesterov", t.nesterov, "Nesterov momentum");
  train->add_option("--schedule", t.schedule, "learning-rate schedule")
      ->check(CLI::IsMember({"constant", "step", "multistep", "cosine", "onecycle"}))
      ->capture_default_str();
  train->add_option("--warmup", t.warmup, "linear warm-up epochs before the schedule")
      ->capture_default_str();
  train
      ->add_option("--step-size", t.step_size, "step schedule: epochs between decays (0: epochs/3)")
      ->capture_default_str();
  train->add_option("--gamma", t.gamma, "step and multistep schedules: decay factor")
      ->capture_default_str();
  train
      ->add_option("--milestones", t.milestones,
                   "multistep schedule: epochs at which lr is multiplied by gamma, e.g. 82,123")
      ->delimiter(',');
  train->add_option("--label-smoothing", t.label_smoothing, "cross-entropy label smoothing")
      ->capture_default_str();
  train->add_option(
      "--data", t.data,
      "CIFAR-10 binary folder (default: $CONVBOOK_DATA, datasets/cifar-10-batches-bin, "
      "else the bundled sample)");
  train->add_option("--out", t.out, "run folder (default: runs/<model>)");
  train->add_option("--seed", t.seed, "random seed")->capture_default_str();
  train->add_option("--threads", t.threads, "OpenMP threads (0: all cores)")->capture_default_str();
  train->add_flag("--resume", t.resume, "continue the run in --out from its last checkpoint");
  train->add_flag("--force", t.force, "overwrite an existing run folder");
  train->add_option(
      "--stop-after", t.stop_after,
      "stop after this epoch (the schedule still spans --epochs); continue with --resume");
  train->add_option("--max-train", t.max_train, "use only the first N training images (0: all)");
  train->add_option("--max-test", t.max_test, "use only the first N test images (0: all)");
  bool no_augment = false, no_progress = false, no_plot = false;
  train->add_flag("--no-augment", no_augment, "no random crop / flip");
  train->add_flag("--no-progress", no_progress, "no progress bar");
  train->add_flag("--no-plot", no_plot, "no curves.png nor terminal plot");
  std::string train_config;
  bool dry_run = false;
  train->add_option("--config", train_config,
                    "TOML file of train options (`epochs = 164`, `milestones = [82, 123]`); "
                    "options on the command line override it (see configs/)");
  train->add_flag("--dry-run", dry_run,
                  "check the options, print them as JSON and stop (no data, no training)");

  // eval
  std::string model = "small_cnn", checkpoint, data;
  std::size_t batch_size = 256, max_test = 0;
  int threads = 0;
  auto* eval = app.add_subcommand("eval", "test loss and accuracy of a checkpoint");
  eval->add_option("--model", model, "model name")->capture_default_str();
  eval->add_option("--checkpoint", checkpoint,
                   "checkpoint (default: runs/<model>/checkpoint.safetensors)");
  eval->add_option("--data", data, "CIFAR-10 binary folder");
  eval->add_option("--batch-size", batch_size, "examples per batch")->capture_default_str();
  eval->add_option("--max-test", max_test, "use only the first N test images (0: all)");
  eval->add_option("--threads", threads, "OpenMP threads (0: all cores)");

  // info
  std::string input = "3x32x32";
  std::size_t num_classes = 10;
  bool list = false;
  auto* info = app.add_subcommand("info", "layer table: output shapes, parameters, FLOPs");
  info->add_option("--model", model, "model name")->capture_default_str();
  info->add_option("--input", input, "input size CxHxW")->capture_default_str();
  info->add_option("--classes", num_classes, "number of classes")->capture_default_str();
  info->add_flag("--list", list, "list the model names instead");

  // plot
  std::vector<std::string> runs;
  std::string png;
  bool no_text = false;
  auto* plot =
      app.add_subcommand("plot", "learning curves of one or more runs (overlaid) to a PNG");
  plot->add_option("runs", runs, "run folders (or metrics.csv files)")->required();
  plot->add_option("--out", png,
                   "PNG path (default: <run>/curves.png for one run, curves.png for several)");
  plot->add_flag("--no-text", no_text, "do not print the terminal plot");

  // models
  auto* models = app.add_subcommand("models", "list the model names");

  // bench
  cli::BenchCommand bench(app);

  // forward (chapter 10: torchvision interop)
  cli::ForwardCommand forward(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  try {
    if (*train) {
      if (!train_config.empty()) cli::apply_config_file(*train, train_config);
      t.augment = !no_augment;
      t.show_progress = !no_progress;
      t.plot = !no_plot;
      // The options first, so --dry-run checks a config's schedule even for a model this
      // build does not have yet (tests/cli/check_configs.cmake skips those afterwards).
      if (dry_run) check_train_options(t);
      cli::find_model(t.model);  // an unknown name fails before any data is read
      if (dry_run) {
        std::cout << options_to_json(t) << "\n";
        return 0;
      }
      const TrainResult r = train_model(
          t, [&t](std::size_t k) { return cli::make_model(t.model, k); }, std::cerr);
      if (!r.history.empty()) {
        const EpochMetrics& last = r.history.back();
        std::cout << "done: " << r.history.size() << " epochs, test accuracy " << std::fixed
                  << std::setprecision(2) << 100 * last.test_acc << "%, results in " << r.run_dir
                  << "/ (metrics.csv, checkpoint.safetensors, curves.png)\n";
      }
    } else if (*eval) {
      set_threads(threads);
      if (checkpoint.empty())
        checkpoint = (fs::path("runs") / model / "checkpoint.safetensors").string();
      const CifarData d = load_cifar10(data);
      const CifarSet test = take_first(d.test, max_test);
      ModulePtr m = cli::make_model(model, std::size_t(d.test.num_classes));
      const auto meta = load_checkpoint(checkpoint, *m);
      const EvalResult r = evaluate(*m, test, batch_size);
      std::cout << "data: " << d.description << "\n";
      if (meta.count("epoch"))
        std::cout << "checkpoint: " << checkpoint << " (epoch " << meta.at("epoch") << ")\n";
      std::cout << std::fixed << std::setprecision(4) << "test loss " << r.loss
                << "  test accuracy " << std::setprecision(2) << 100 * r.accuracy << "% on "
                << r.examples << " images\n";
    } else if (*info) {
      if (list) return run_models();
      const Shape shape = cli::parse_input_shape(input);
      manual_seed(0);
      ModulePtr m = cli::make_model(model, num_classes);
      std::cout << model << " on a " << input << " input\n" << cli::layer_table(*m, shape);
    } else if (*plot) {
      std::vector<RunCurves> curves;
      for (const std::string& r : runs) curves.push_back(load_run_curves(r));
      if (png.empty()) {
        png = runs.size() == 1 && fs::is_directory(runs[0])
                  ? (fs::path(runs[0]) / "curves.png").string()
                  : std::string("curves.png");
      }
      plot_curves_png(curves, png);
      if (!no_text) std::cout << plot_curves_text(curves);
      std::cout << "wrote " << png << "\n";
    } else if (*models) {
      return run_models();
    } else if (forward.selected()) {
      return forward.run(std::cout);
    } else if (bench.selected()) {
      return bench.run(std::cout);
    }
  } catch (const std::exception& e) {
    std::cerr << "convbook: error: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
