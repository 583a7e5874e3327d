#include "convbook/train/trainer.hpp"

#include <omp.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "convbook/data/cifar.hpp"
#include "convbook/data/loader.hpp"
#include "convbook/error.hpp"
#include "convbook/io/checkpoint.hpp"
#include "convbook/io/safetensors.hpp"
#include "convbook/layers/loss.hpp"
#include "convbook/optim/schedule.hpp"
#include "convbook/optim/sgd.hpp"
#include "convbook/plot/curves.hpp"
#include "convbook/random.hpp"
#include "convbook/train/progress.hpp"

namespace convbook {

namespace fs = std::filesystem;

std::string options_to_json(const TrainOptions& o) {
  nlohmann::json j;
  j["model"] = o.model;
  j["epochs"] = o.epochs;
  j["batch_size"] = o.batch_size;
  j["lr"] = o.lr;
  j["momentum"] = o.momentum;
  j["weight_decay"] = o.weight_decay;
  j["nesterov"] = o.nesterov;
  j["schedule"] = o.schedule;
  j["warmup"] = o.warmup;
  j["step_size"] = o.step_size;
  j["gamma"] = o.gamma;
  j["milestones"] = o.milestones;
  j["label_smoothing"] = o.label_smoothing;
  j["data"] = o.data;
  j["seed"] = o.seed;
  j["threads"] = o.threads;
  j["max_train"] = o.max_train;
  j["max_test"] = o.max_test;
  j["augment"] = o.augment;
  return j.dump();
}

CifarSet take_first(const CifarSet& set, std::size_t max) {
  if (max == 0 || max >= set.size()) return set;
  CifarSet out;
  out.num_classes = set.num_classes;
  out.labels.assign(set.labels.begin(), set.labels.begin() + std::ptrdiff_t(max));
  const std::size_t image = set.pixels.size() / set.size();
  out.pixels.assign(set.pixels.begin(), set.pixels.begin() + std::ptrdiff_t(max * image));
  return out;
}

EvalResult evaluate(Module& model, const CifarSet& data, std::size_t batch_size,
                    double label_smoothing) {
  const bool was_training = model.training();
  model.eval();
  const NoGradGuard no_grad;  // evaluation: no layer keeps its input for a backward
  BatchLoader loader(data, batch_size, /*train=*/false, /*seed=*/0);
  loader.start_epoch(0);
  CrossEntropyLoss criterion(label_smoothing);
  EvalResult r;
  double loss_sum = 0;
  std::size_t correct = 0;
  Batch batch;
  while (loader.next(batch)) {
    const Tensor logits = model.forward(batch.images);
    loss_sum += criterion.forward(logits, batch.labels) * double(batch.labels.size());
    correct += count_correct(logits, batch.labels);
    r.examples += batch.labels.size();
  }
  model.train(was_training);
  if (r.examples > 0) {
    r.loss = loss_sum / double(r.examples);
    r.accuracy = double(correct) / double(r.examples);
  }
  return r;
}

namespace {

// The files a run writes; --force removes exactly these.
const char* const kRunFiles[] = {"metrics.csv", "checkpoint.safetensors", "optimizer.safetensors",
                                 "curves.png"};

// Dropout and anything else drawing from global_rng() gets a stream per epoch, so a resumed
// run draws what the uninterrupted run would have drawn.
std::uint64_t epoch_seed(std::uint64_t seed, std::size_t epoch) {
  return seed * 0x9E3779B97F4A7C15ULL + 0xD1B54A32D192ED03ULL * std::uint64_t(epoch + 1);
}

// Refuses to touch an existing run unless told to (called before anything is loaded).
void check_run_dir(const TrainOptions& o, const fs::path& dir) {
  if (o.resume) {
    if (!fs::exists(dir / "checkpoint.safetensors")) {
      throw Error("train --resume: no checkpoint to resume from: '" +
                  (dir / "checkpoint.safetensors").string() + "' does not exist");
    }
    return;
  }
  bool has_run = false;
  for (const char* f : kRunFiles) has_run = has_run || fs::exists(dir / f);
  if (has_run && !o.force) {
    throw Error("train: run folder '" + dir.string() +
                "' already holds a run; pass --resume to continue it, --force to overwrite it, "
                "or --out to choose another folder");
  }
}

// Creates the run folder; --force removes the old run's files (only once all else checked out).
void prepare_run_dir(const TrainOptions& o, const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error("train: cannot create run folder '" + dir.string() + "': " + ec.message());
  if (o.resume) return;
  for (const char* f : kRunFiles) fs::remove(dir / f, ec);
}

void save_optimizer(const std::string& path, const SGD& opt, std::size_t epoch) {
  TensorMap tensors;
  for (const auto& [name, t] : opt.state()) tensors[name] = from_tensor(*t);
  write_safetensors(path, tensors, {{"epoch", std::to_string(epoch)}, {"optimizer", "SGD"}});
}

// Restores the momentum buffers; false (momentum restarts) when the file belongs to another
// epoch, which happens only if a run was killed between the two atomic writes.
bool load_optimizer(const std::string& path, SGD& opt, std::size_t epoch) {
  const SafetensorsFile file = read_safetensors(path);
  const auto it = file.metadata.find("epoch");
  if (it == file.metadata.end() || it->second != std::to_string(epoch)) return false;
  for (const auto& [name, t] : file.tensors) opt.load_state(name, t.data);
  return true;
}

void write_curves(const fs::path& dir, const std::string& name,
                  const std::vector<EpochMetrics>& history, std::ostream& log) {
  try {
    plot_curves_png({{name, history}}, (dir / "curves.png").string());
  } catch (const Error& e) {
    log << "warning: " << e.what() << '\n';
  }
}

// The schedule of a run with `iters_per_epoch` batches an epoch.
ScheduleOptions schedule_options(const TrainOptions& o, std::size_t iters_per_epoch) {
  ScheduleOptions so;
  so.kind = parse_schedule(o.schedule);
  so.base_lr = o.lr;
  so.epochs = o.epochs;
  so.iters_per_epoch = iters_per_epoch;
  so.warmup_epochs = o.warmup;
  so.step_epochs = o.step_size;
  so.gamma = o.gamma;
  so.milestones = o.milestones;
  return so;
}

}  // namespace

void check_train_options(const TrainOptions& o) {
  if (o.epochs == 0) throw Error("train: --epochs=0, expected at least 1");
  if (o.batch_size == 0) throw Error("train: --batch-size=0, expected at least 1");
  if (o.label_smoothing < 0 || o.label_smoothing >= 1) {
    throw Error("train: --label-smoothing=" + std::to_string(o.label_smoothing) +
                ", expected a value in [0, 1)");
  }
  if (o.threads < 0)
    throw Error("train: --threads=" + std::to_string(o.threads) + ", expected >= 0");
  // The schedule checks itself; one iteration an epoch is enough to see bad milestones.
  const LrSchedule check(schedule_options(o, 1));
}

TrainResult train_model(const TrainOptions& o, const ModelFactory& factory, std::ostream& log) {
  check_train_options(o);
  if (o.threads > 0) omp_set_num_threads(o.threads);
  // Not an error, so that `--config paper.toml --schedule cosine` can try another schedule.
  if (!o.milestones.empty() && o.schedule != "multistep") {
    log << "note: --milestones are ignored by --schedule " << o.schedule << "\n";
  }

  TrainResult result;
  const fs::path dir = o.out.empty() ? fs::path("runs") / o.model : fs::path(o.out);
  result.run_dir = dir.string();
  check_run_dir(o, dir);
  const std::string run_name = fs::absolute(dir).lexically_normal().filename().string();

  // Data.
  CifarData data = load_cifar10(o.data);
  const CifarSet train_set = take_first(data.train, o.max_train);
  const CifarSet test_set = take_first(data.test, o.max_test);
  result.data_description = data.description;
  log << "data: " << data.description << "\n      using " << train_set.size() << " train / "
      << test_set.size() << " test images\n";

  // Model, optimizer, schedule.
  manual_seed(o.seed);
  ModulePtr model_ptr = factory(std::size_t(train_set.num_classes));
  Module& model = *model_ptr;
  SgdOptions sgd;
  sgd.lr = o.lr;
  sgd.momentum = o.momentum;
  sgd.weight_decay = o.weight_decay;
  sgd.nesterov = o.nesterov;
  SGD optimizer(model, sgd);
  AugmentOptions aug;
  aug.random_crop = o.augment;
  aug.horizontal_flip = o.augment;
  BatchLoader loader(train_set, o.batch_size, /*train=*/true, o.seed, aug);
  const LrSchedule schedule(schedule_options(o, loader.num_batches()));
  CrossEntropyLoss criterion(o.label_smoothing);
  log << "model: " << o.model << ", " << model.num_parameters() << " parameters; run folder "
      << dir.string() << "\n";

  // Resume: weights, BN statistics, momentum buffers, the metrics so far.
  std::size_t first_epoch = 1;
  const std::string checkpoint_path = (dir / "checkpoint.safetensors").string();
  const std::string optimizer_path = (dir / "optimizer.safetensors").string();
  const std::string metrics_path = (dir / "metrics.csv").string();
  if (o.resume) {
    // The model name first: loading another model's weights would only list shape mismatches.
    const auto saved = read_safetensors(checkpoint_path).metadata;
    const auto model_it = saved.find("model");
    if (model_it != saved.end() && model_it->second != o.model) {
      throw Error("train --resume: '" + checkpoint_path + "' holds model '" + model_it->second +
                  "', but --model is '" + o.model + "'");
    }
    const auto meta = load_checkpoint(checkpoint_path, model);
    const auto epoch_it = meta.find("epoch");
    if (epoch_it == meta.end())
      throw Error("train --resume: '" + checkpoint_path + "' has no 'epoch' metadata");
    const std::size_t done = std::stoul(epoch_it->second);
    if (!fs::exists(optimizer_path) || !load_optimizer(optimizer_path, optimizer, done)) {
      log << "warning: no momentum buffers of epoch " << done << " in " << optimizer_path
          << "; momentum restarts from zero\n";
    }
    if (fs::exists(metrics_path)) {
      for (const EpochMetrics& m : read_metrics_csv(metrics_path)) {
        if (m.epoch <= done) result.history.push_back(m);
      }
    }
    first_epoch = done + 1;
    log << "resuming after epoch " << done << " of " << o.epochs << "\n";
    if (first_epoch > o.epochs) {
      log << "the run already has all " << o.epochs
          << " epochs; pass a larger --epochs to train on\n";
      return result;
    }
  }

  prepare_run_dir(o, dir);
  ProgressBar bar(std::cerr, ProgressBar::stderr_is_terminal());
  const std::size_t num_batches = loader.num_batches();
  // Stops before a NaN reaches the weights; the checkpoint on disk is the last good epoch's.
  auto stop_diverged = [&](double loss, std::size_t epoch, std::size_t b) {
    std::ostringstream msg;
    msg << "train: the loss became " << (std::isnan(loss) ? "NaN" : "infinite") << " at epoch "
        << epoch << ", batch " << b << "/" << num_batches << " (lr " << optimizer.lr()
        << "); stopped. ";
    if (epoch > 1) {
      msg << "The checkpoint of the last good epoch (" << epoch - 1 << ") is kept in "
          << checkpoint_path << ". ";
    }
    msg << "Try a smaller --lr or a --warmup.";
    if (o.show_progress) bar.finish();
    throw Error(msg.str());
  };
  const std::size_t last_epoch = o.stop_after > 0 ? std::min(o.stop_after, o.epochs) : o.epochs;
  for (std::size_t epoch = first_epoch; epoch <= last_epoch; ++epoch) {
    const auto epoch_start = std::chrono::steady_clock::now();
    manual_seed(epoch_seed(o.seed, epoch));
    model.train();
    loader.start_epoch(epoch);
    if (o.show_progress) bar.start(epoch, o.epochs, num_batches);
    double loss_sum = 0, train_seconds = 0;
    std::size_t seen = 0, correct = 0, b = 0;
    Batch batch;
    while (loader.next(batch)) {
      const auto step_start = std::chrono::steady_clock::now();
      const std::size_t iteration = (epoch - 1) * num_batches + b;
      ++b;
      //! [train-step]
      // One SGD step: forward through the model, loss, backward (each layer returns dx and
      // accumulates its parameters' gradients), then the update at this iteration's lr.
      const Tensor logits = model.forward(batch.images);
      const double loss = criterion.forward(logits, batch.labels);
      if (!std::isfinite(loss)) stop_diverged(loss, epoch, b);  // the NaN guard
      model.zero_grad();
      model.backward(criterion.backward());
      optimizer.set_lr(schedule.lr_at(iteration));
      optimizer.step();
      //! [train-step]
      train_seconds +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - step_start).count();
      loss_sum += loss * double(batch.labels.size());
      correct += count_correct(logits, batch.labels);
      seen += batch.labels.size();
      if (o.show_progress) {
        bar.update(b, loss_sum / double(seen), double(correct) / double(seen),
                   double(seen) / std::max(train_seconds, 1e-9));
      }
    }
    if (o.show_progress) bar.finish();

    const EvalResult test = evaluate(model, test_set, o.batch_size, o.label_smoothing);
    EpochMetrics m;
    m.epoch = epoch;
    m.lr = optimizer.lr();
    m.train_loss = seen ? loss_sum / double(seen) : 0;
    m.train_acc = seen ? double(correct) / double(seen) : 0;
    m.test_loss = test.loss;
    m.test_acc = test.accuracy;
    m.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count();
    m.images_per_s = double(seen) / std::max(train_seconds, 1e-9);
    result.history.push_back(m);

    // Optimizer first, then the checkpoint (which says which epoch is complete), then metrics:
    // each write is atomic, so a crash leaves at worst an older but consistent epoch.
    save_optimizer(optimizer_path, optimizer, epoch);
    save_checkpoint(checkpoint_path, model,
                    {{"epoch", std::to_string(epoch)},
                     {"model", o.model},
                     {"options", options_to_json(o)},
                     {"format", "convbook state_dict"}});
    write_metrics_csv(metrics_path, result.history);
    if (o.plot) write_curves(dir, run_name, result.history, log);

    log << std::fixed << std::setprecision(4) << "epoch " << epoch << "/" << o.epochs << "  lr "
        << m.lr << "  train loss " << m.train_loss << " acc " << std::setprecision(2)
        << 100 * m.train_acc << "%  test loss " << std::setprecision(4) << m.test_loss << " acc "
        << std::setprecision(2) << 100 * m.test_acc << "%  " << std::setprecision(1) << m.seconds
        << " s  " << std::setprecision(0) << m.images_per_s << " img/s\n"
        << std::defaultfloat << std::flush;
  }

  if (o.plot) {
    try {
      log << plot_curves_text({{run_name, result.history}});
    } catch (const Error& e) {
      log << "warning: " << e.what() << '\n';
    }
    log << "curves: " << (dir / "curves.png").string() << "\n";
  }
  return result;
}

}  // namespace convbook
