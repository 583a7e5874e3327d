#include "convbook/plot/curves.hpp"

#include <gnuplot-iostream.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "convbook/error.hpp"

namespace convbook {

namespace fs = std::filesystem;

RunCurves load_run_curves(const std::string& run) {
  fs::path path(run);
  if (!fs::exists(path)) {
    throw Error("plot: '" + run +
                "' does not exist; expected a run folder (holding metrics.csv) "
                "or a metrics.csv file");
  }
  std::string name;
  if (fs::is_directory(path)) {
    name = fs::absolute(path).lexically_normal().filename().string();
    if (name.empty())
      name = fs::absolute(path).lexically_normal().parent_path().filename().string();
    path /= "metrics.csv";
  } else {
    name = fs::absolute(path).parent_path().filename().string();
  }
  RunCurves curves{name, read_metrics_csv(path.string())};
  if (curves.rows.empty())
    throw Error("plot: '" + path.string() + "' has a header but no epochs yet");
  return curves;
}

namespace {

using Points = std::vector<std::pair<double, double>>;

const char* const kColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                "#9467bd", "#8c564b", "#e377c2", "#17becf"};

// Quotes a string for gnuplot's single-quoted strings.
std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

// Sends one panel: for each run, train (dashed) and test (solid) of `field`.
template <typename Field>
void panel(Gnuplot& gp, const std::vector<RunCurves>& runs, const std::string& title,
           const std::string& ylabel, bool text, Field field) {
  gp << "set title " << quoted(title) << " noenhanced\n";
  gp << "set xlabel 'epoch'\nset ylabel " << quoted(ylabel) << "\n";
  std::vector<Points> series;
  std::ostringstream cmd;
  cmd << "plot ";
  for (std::size_t r = 0; r < runs.size(); ++r) {
    Points train, test;
    for (const EpochMetrics& m : runs[r].rows) {
      train.emplace_back(double(m.epoch), field(m, true));
      test.emplace_back(double(m.epoch), field(m, false));
    }
    series.push_back(train);
    series.push_back(test);
    // One colour per run; a single run gets two colours so train and test stand apart.
    const std::size_t n = sizeof(kColours) / sizeof(kColours[0]);
    const std::string colour = kColours[r % n];
    const std::string test_colour = runs.size() == 1 ? kColours[1] : colour;
    const std::string style = text ? "" : " lc rgb '" + colour + "' lw 2";
    const std::string test_style = text ? "" : " lc rgb '" + test_colour + "' lw 2";
    const std::string prefix = runs.size() > 1 || !text ? runs[r].name + " " : "";
    if (r > 0) cmd << ", ";
    cmd << "'-' with linespoints" << style << (text ? "" : " dt 2 pt 6 ps 0.6") << " title "
        << quoted(prefix + "train") << " noenhanced, "
        << "'-' with linespoints" << test_style << (text ? "" : " dt 1 pt 7 ps 0.6") << " title "
        << quoted(prefix + "test") << " noenhanced";
  }
  gp << cmd.str() << "\n";
  for (const Points& s : series) gp.send1d(s);
}

// Both panels into whatever terminal and output are set; gnuplot exits (and the file is
// complete) when `gp` goes out of scope in the caller.
void draw_panels(Gnuplot& gp, const std::vector<RunCurves>& runs, bool text) {
  std::size_t last_epoch = 1;
  for (const RunCurves& r : runs) {
    for (const EpochMetrics& m : r.rows) last_epoch = std::max(last_epoch, m.epoch);
  }
  gp << "set xrange [0:" << last_epoch << "]\n";  // from 0, and never empty for a 1-epoch run
  gp << (text ? "set multiplot layout 2,1\n" : "set multiplot layout 1,2\n");
  gp << (text ? "set key top right\n" : "set key bottom left\nset grid\n");
  panel(gp, runs, "loss", "cross-entropy", text,
        [](const EpochMetrics& m, bool train) { return train ? m.train_loss : m.test_loss; });
  gp << "set key bottom right\n";
  panel(gp, runs, "accuracy", "accuracy (%)", text, [](const EpochMetrics& m, bool train) {
    return 100.0 * (train ? m.train_acc : m.test_acc);
  });
  gp << "unset multiplot\nset output\n";
}

void require_runs(const std::vector<RunCurves>& runs) {
  if (runs.empty()) throw Error("plot: no runs given, expected at least one run folder");
  for (const RunCurves& r : runs) {
    if (r.rows.empty()) throw Error("plot: run '" + r.name + "' has no epochs to draw");
  }
}

std::string gnuplot_missing(const std::string& what) {
  return "plot: gnuplot did not write '" + what +
         "'; is gnuplot installed (Debian package gnuplot-nox, see scripts/install-deps.sh)?";
}

}  // namespace

void plot_curves_png(const std::vector<RunCurves>& runs, const std::string& png_path, int width,
                     int height) {
  require_runs(runs);
  const std::string tmp = png_path + ".tmp.png";
  std::remove(tmp.c_str());
  {
    Gnuplot gp("gnuplot");
    gp << "set terminal pngcairo size " << width << "," << height << " font 'sans,10'\n";
    gp << "set output " << quoted(tmp) << "\n";
    draw_panels(gp, runs, false);
  }  // gnuplot exits here; the PNG is complete
  if (!fs::exists(tmp) || fs::file_size(tmp) == 0) throw Error(gnuplot_missing(png_path));
  std::error_code ec;
  fs::rename(tmp, png_path, ec);  // the PNG appears whole or not at all, like the metrics
  if (ec) throw Error("plot: cannot rename '" + tmp + "' to '" + png_path + "': " + ec.message());
}

std::string plot_curves_text(const std::vector<RunCurves>& runs, int width, int height) {
  require_runs(runs);
  char name[] = "/tmp/convbook_plot_XXXXXX";
  const int fd = ::mkstemp(name);
  if (fd < 0) throw Error("plot: cannot create a temporary file in /tmp");
  ::close(fd);
  {
    Gnuplot gp("gnuplot");
    gp << "set terminal dumb size " << width << "," << height << "\n";
    gp << "set output " << quoted(name) << "\n";
    draw_panels(gp, runs, true);
  }
  std::ifstream in(name);
  std::stringstream text;
  text << in.rdbuf();
  std::remove(name);
  if (text.str().empty()) throw Error(gnuplot_missing("terminal plot"));
  return text.str();
}

}  // namespace convbook
