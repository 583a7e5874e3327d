// Learning curves: metrics.csv in, a two-panel PNG and a terminal rendering out.
// Needs the gnuplot program (gnuplot-nox), which scripts/install-deps.sh installs.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "convbook/error.hpp"
#include "convbook/plot/curves.hpp"

using namespace convbook;
namespace fs = std::filesystem;

namespace {

// Every folder a test makes lives under one per-process root, removed when the program ends.
const fs::path kRoot =
    fs::temp_directory_path() / ("convbook_test_curves_" + std::to_string(::getpid()));
struct RemoveRoot {
  ~RemoveRoot() {
    std::error_code ec;
    fs::remove_all(kRoot, ec);
  }
} remove_root;

RunCurves fake_run(const std::string& name, double start) {
  RunCurves r{name, {}};
  for (std::size_t e = 1; e <= 5; ++e) {
    const double t = double(e);
    r.rows.push_back({e, 0.1, start / t, 1 - 0.5 / t, start / t + 0.1, 0.9 - 0.5 / t, 1.0, 100.0});
  }
  return r;
}

}  // namespace

TEST_CASE("curves: two runs overlay into one PNG and one text plot", "[plot]") {
  const fs::path dir = kRoot / "overlay";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::vector<RunCurves> runs = {fake_run("run_a", 2.0), fake_run("run_b", 1.5)};

  const std::string png = (dir / "both.png").string();
  plot_curves_png(runs, png);
  std::ifstream in(png, std::ios::binary);
  char magic[8] = {};
  in.read(magic, 8);
  CHECK(std::string(magic + 1, 3) == "PNG");  // the PNG signature: \x89 P N G \r \n \x1a \n
  CHECK(fs::file_size(png) > 5000);           // two panels of lines, not an empty canvas
  CHECK_FALSE(fs::exists(png + ".tmp.png"));

  const std::string text = plot_curves_text(runs);
  CHECK(text.find("loss") != std::string::npos);
  CHECK(text.find("accuracy") != std::string::npos);
  CHECK(text.find("run_b test") != std::string::npos);  // the legend names each run
}

TEST_CASE("curves: a run folder is read through its metrics.csv and bad input is refused",
          "[plot]") {
  const fs::path dir = kRoot / "runs" / "my_run";
  fs::remove_all(dir);
  fs::create_directories(dir);
  write_metrics_csv((dir / "metrics.csv").string(), fake_run("x", 2.0).rows);
  const RunCurves run = load_run_curves(dir.string());
  CHECK(run.name == "my_run");
  CHECK(run.rows.size() == 5);

  CHECK_THROWS_WITH(load_run_curves((dir / "absent").string()), Catch::Contains("does not exist"));
  CHECK_THROWS_WITH(plot_curves_png({}, (dir / "x.png").string()),
                    Catch::Contains("no runs given"));
  write_metrics_csv((dir / "metrics.csv").string(), {});
  CHECK_THROWS_WITH(load_run_curves(dir.string()), Catch::Contains("no epochs yet"));
}
