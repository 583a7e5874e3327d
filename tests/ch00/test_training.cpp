// Chapter 00's end-to-end checks: the model learns, the trainer writes a resumable run, and a
// diverging run stops with a clear message. All on the bundled CIFAR-10 sample, kept tiny so
// the whole file runs in seconds.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <string>

#include "chapters/00_framework/small_cnn.hpp"
#include "convbook/data/cifar.hpp"
#include "convbook/data/loader.hpp"
#include "convbook/error.hpp"
#include "convbook/io/safetensors.hpp"
#include "convbook/layers/loss.hpp"
#include "convbook/optim/sgd.hpp"
#include "convbook/random.hpp"
#include "convbook/train/trainer.hpp"

using namespace convbook;
namespace fs = std::filesystem;

namespace {

const std::string kSample = std::string(CONVBOOK_SOURCE_DIR) + "/datasets/cifar-10-sample";

// Every folder a test makes lives under one per-process root, removed when the program ends.
const fs::path kRoot =
    fs::temp_directory_path() / ("convbook_test_training_" + std::to_string(::getpid()));
struct RemoveRoot {
  ~RemoveRoot() {
    std::error_code ec;
    fs::remove_all(kRoot, ec);
  }
} remove_root;

fs::path fresh_dir(const std::string& name) {
  const fs::path d = kRoot / name;
  fs::remove_all(d);
  return d;
}

// A run small enough for a test: 64 training images in 4 batches, 32 test images.
TrainOptions tiny_run(const fs::path& out, std::size_t epochs) {
  TrainOptions o;
  o.epochs = epochs;
  o.batch_size = 16;
  o.lr = 0.05;
  o.data = kSample;
  o.out = out.string();
  o.seed = 3;
  o.threads = 1;  // deterministic and kind to the shared test machine
  o.max_train = 64;
  o.max_test = 32;
  o.show_progress = false;
  return o;
}

ModulePtr factory(std::size_t k) {
  return small_cnn(k);
}

}  // namespace

TEST_CASE("small_cnn's loss falls clearly in 20 SGD steps on one fixed batch", "[training]") {
  const CifarData data = load_cifar10(kSample);
  REQUIRE(data.is_sample);
  BatchLoader loader(data.train, 32, /*train=*/false, /*seed=*/0);
  loader.start_epoch(0);
  Batch batch;
  REQUIRE(loader.next(batch));

  manual_seed(0);
  ModulePtr model = small_cnn(10);
  SgdOptions o;
  o.lr = 0.05;
  o.momentum = 0.9;
  SGD sgd(*model, o);
  CrossEntropyLoss criterion;
  double first = 0, last = 0;
  for (int step = 0; step < 20; ++step) {
    last = criterion.forward(model->forward(batch.images), batch.labels);
    if (step == 0) first = last;
    model->zero_grad();
    model->backward(criterion.backward());
    sgd.step();
  }
  // Untrained, the loss is near ln(10) = 2.30; a working backward pass memorizes 32 images
  // quickly (about 1.0 after 20 steps when written); a sign or indexing bug would not get
  // below 70% of the start.
  CHECK(first == Approx(std::log(10.0)).margin(0.3));
  CHECK(last < 0.7 * first);
}

TEST_CASE(
    "an interrupted run writes metrics, checkpoint and curves, and resuming it matches an "
    "uninterrupted run",
    "[training]") {
  const fs::path dir = fresh_dir("resume");
  std::ostringstream log;
  // A 2-epoch run interrupted after epoch 1 (the schedule spans both epochs).
  TrainOptions first = tiny_run(dir, 2);
  first.stop_after = 1;
  const TrainResult one = train_model(first, factory, log);
  REQUIRE(one.history.size() == 1);
  CHECK(fs::exists(dir / "metrics.csv"));
  CHECK(fs::exists(dir / "checkpoint.safetensors"));
  CHECK(fs::exists(dir / "optimizer.safetensors"));
  CHECK(fs::exists(dir / "curves.png"));
  CHECK(fs::file_size(dir / "curves.png") > 1000);
  CHECK(read_metrics_csv((dir / "metrics.csv").string()).size() == 1);

  // The checkpoint is a plain state_dict (torchvision names) plus metadata saying what it is.
  const SafetensorsFile ckpt = read_safetensors((dir / "checkpoint.safetensors").string());
  CHECK(ckpt.metadata.at("epoch") == "1");
  CHECK(ckpt.metadata.at("model") == "small_cnn");
  CHECK(ckpt.metadata.at("options").find("\"batch_size\":16") != std::string::npos);
  CHECK(ckpt.tensors.count("0.weight") == 1);
  CHECK(ckpt.tensors.count("1.running_mean") == 1);
  CHECK(ckpt.tensors.count("1.num_batches_tracked") == 1);
  const SafetensorsFile opt = read_safetensors((dir / "optimizer.safetensors").string());
  CHECK(opt.tensors.count("0.weight.momentum_buffer") == 1);

  // Without --resume or --force an existing run is never overwritten.
  CHECK_THROWS_WITH(train_model(tiny_run(dir, 2), factory, log),
                    Catch::Contains("already holds a run") && Catch::Contains("--resume"));

  TrainOptions more = tiny_run(dir, 2);
  more.resume = true;
  const TrainResult two = train_model(more, factory, log);
  REQUIRE(two.history.size() == 2);
  CHECK(two.history[0].epoch == 1);
  CHECK(two.history[1].epoch == 2);
  CHECK(read_metrics_csv((dir / "metrics.csv").string()).size() == 2);
  CHECK(read_safetensors((dir / "checkpoint.safetensors").string()).metadata.at("epoch") == "2");

  // Same seeds per epoch, same weights, same momentum: the resumed run matches an
  // uninterrupted one (single thread, so to rounding; 1e-4 relative allows for nothing more).
  const fs::path straight_dir = fresh_dir("straight");
  const TrainResult straight = train_model(tiny_run(straight_dir, 2), factory, log);
  REQUIRE(straight.history.size() == 2);
  CHECK(two.history[1].train_loss == Approx(straight.history[1].train_loss).epsilon(1e-4));
  CHECK(two.history[1].test_loss == Approx(straight.history[1].test_loss).epsilon(1e-4));
  CHECK(two.history[1].test_acc == Approx(straight.history[1].test_acc));

  // Resuming under another model name is refused before any weight is touched.
  TrainOptions other = tiny_run(dir, 3);
  other.resume = true;
  other.model = "resnet18";
  CHECK_THROWS_WITH(train_model(other, factory, log),
                    Catch::Contains("holds model 'small_cnn', but --model is 'resnet18'"));

  // --force starts over.
  TrainOptions again = tiny_run(dir, 1);
  again.force = true;
  again.plot = false;
  CHECK(train_model(again, factory, log).history.size() == 1);
  CHECK(read_metrics_csv((dir / "metrics.csv").string()).size() == 1);
  CHECK_FALSE(fs::exists(dir / "curves.png"));
}

TEST_CASE("resuming without a checkpoint is refused", "[training]") {
  TrainOptions o = tiny_run(fresh_dir("nothing"), 1);
  o.resume = true;
  std::ostringstream log;
  CHECK_THROWS_WITH(train_model(o, factory, log), Catch::Contains("no checkpoint to resume from"));
}

TEST_CASE(
    "the NaN guard stops a diverging run, naming epoch and batch, keeping the last good checkpoint",
    "[training]") {
  const fs::path dir = fresh_dir("nan");
  std::ostringstream log;
  TrainOptions good = tiny_run(dir, 1);
  good.plot = false;
  train_model(good, factory, log);

  // Epoch 2 with an absurd learning rate: weights blow up within a step or two.
  TrainOptions bad = tiny_run(dir, 2);
  bad.resume = true;
  bad.plot = false;
  bad.lr = 1e36;
  bad.schedule = "constant";
  CHECK_THROWS_WITH(train_model(bad, factory, log), Catch::Contains("the loss became") &&
                                                        Catch::Contains("at epoch 2, batch") &&
                                                        Catch::Contains("last good epoch (1)"));
  CHECK(read_safetensors((dir / "checkpoint.safetensors").string()).metadata.at("epoch") == "1");
  CHECK(read_metrics_csv((dir / "metrics.csv").string()).size() == 1);
}
