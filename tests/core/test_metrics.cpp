// metrics.csv: what the trainer writes, the plotter reads back, and bad files are refused.
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "convbook/error.hpp"
#include "convbook/train/metrics.hpp"
#include "convbook/train/progress.hpp"

using namespace convbook;
namespace fs = std::filesystem;

namespace {

// Every folder a test makes lives under one per-process root, removed when the program ends.
const fs::path kRoot =
    fs::temp_directory_path() / ("convbook_test_metrics_" + std::to_string(::getpid()));
struct RemoveRoot {
  ~RemoveRoot() {
    std::error_code ec;
    fs::remove_all(kRoot, ec);
  }
} remove_root;

fs::path temp_dir(const std::string& name) {
  const fs::path d = kRoot / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream(p) << text;
}

}  // namespace

TEST_CASE("metrics.csv round-trips every column", "[metrics]") {
  const fs::path dir = temp_dir("roundtrip");
  std::vector<EpochMetrics> rows(2);
  rows[0] = {1, 0.1, 2.25, 0.125, 2.0, 0.25, 12.5, 801.5};
  rows[1] = {2, 0.05, 1.5, 0.5, 1.25, 0.625, 11.0, 900.25};
  write_metrics_csv((dir / "metrics.csv").string(), rows);

  std::ifstream in(dir / "metrics.csv");
  std::string header;
  std::getline(in, header);
  CHECK(header == "epoch,lr,train_loss,train_acc,test_loss,test_acc,seconds,images_per_s");

  const auto back = read_metrics_csv((dir / "metrics.csv").string());
  REQUIRE(back.size() == 2);
  CHECK(back[1].epoch == 2);
  CHECK(back[1].lr == 0.05);
  CHECK(back[1].train_loss == 1.5);
  CHECK(back[1].train_acc == 0.5);
  CHECK(back[1].test_loss == 1.25);
  CHECK(back[1].test_acc == 0.625);
  CHECK(back[1].seconds == 11.0);
  CHECK(back[1].images_per_s == 900.25);
}

TEST_CASE("atomic writes leave no temporary file and replace the old file whole", "[metrics]") {
  const fs::path dir = temp_dir("atomic");
  const std::string path = (dir / "out.txt").string();
  write_file_atomic(path, "old contents\n");
  write_file_atomic(path, "new\n");
  std::ifstream in(path);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(all == "new\n");
  CHECK_FALSE(fs::exists(path + ".tmp"));
  CHECK_THROWS_WITH(write_file_atomic((dir / "no_such_dir" / "x.csv").string(), "x"),
                    Catch::Contains("no_such_dir"));
}

TEST_CASE("columns are found by name, extra columns are ignored", "[metrics]") {
  const fs::path dir = temp_dir("columns");
  write_text(dir / "m.csv",
             "test_acc,epoch,note,lr,train_loss,train_acc,test_loss,seconds,images_per_s\n"
             "0.5,3,7,0.01,1.0,0.4,1.1,2.0,100\n");
  const auto rows = read_metrics_csv((dir / "m.csv").string());
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].epoch == 3);
  CHECK(rows[0].test_acc == 0.5);
}

TEST_CASE("bad metrics files get errors naming the file, line and column", "[metrics]") {
  const fs::path dir = temp_dir("bad");
  CHECK_THROWS_WITH(read_metrics_csv((dir / "missing.csv").string()),
                    Catch::Contains("missing.csv") && Catch::Contains("cannot open"));

  write_text(dir / "empty.csv", "");
  CHECK_THROWS_WITH(read_metrics_csv((dir / "empty.csv").string()), Catch::Contains("empty"));

  write_text(dir / "nocol.csv", "epoch,lr,train_loss\n1,0.1,2\n");
  CHECK_THROWS_WITH(read_metrics_csv((dir / "nocol.csv").string()),
                    Catch::Contains("no column 'train_acc'"));

  write_text(dir / "short.csv", std::string(kMetricsHeader) + "\n1,0.1,2,0.1\n");
  CHECK_THROWS_WITH(read_metrics_csv((dir / "short.csv").string()),
                    Catch::Contains("line 2") && Catch::Contains("has 4 fields, expected 8"));

  write_text(dir / "text.csv", std::string(kMetricsHeader) + "\n1,0.1,abc,0.1,1,1,1,1\n");
  CHECK_THROWS_WITH(read_metrics_csv((dir / "text.csv").string()),
                    Catch::Contains("column 'train_loss' is 'abc', expected a number"));
}

TEST_CASE("the progress bar writes plain lines, about one per 10% of an epoch, off a terminal",
          "[metrics]") {
  std::ostringstream out;
  ProgressBar bar(out, /*interactive=*/false);
  bar.start(2, 15, 100);
  for (std::size_t b = 1; b <= 100; ++b) bar.update(b, 1.5, 0.25, 300);
  bar.finish();
  const std::string text = out.str();
  CHECK(std::count(text.begin(), text.end(), '\n') == 10);
  CHECK(text.find('\r') == std::string::npos);
  CHECK(text.find("epoch 2/15") != std::string::npos);
  CHECK(text.find("100/100  loss 1.5000  acc 25.0%  300 img/s") != std::string::npos);

  std::ostringstream tty;
  ProgressBar redraw(tty, /*interactive=*/true);
  redraw.start(1, 1, 3);
  for (std::size_t b = 1; b <= 3; ++b) redraw.update(b, 2.0, 0.5, 10);
  redraw.finish();
  CHECK(tty.str().front() == '\r');  // redrawn in place
  CHECK(tty.str().back() == '\n');   // and ended once
}
