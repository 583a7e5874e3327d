#pragma once
/// @file curves.hpp
/// @brief Learning curves (loss and accuracy, train and test, vs epoch) from metrics.csv,
/// drawn with gnuplot to a PNG and to text for the terminal. Several runs overlay.
#include <string>
#include <vector>

#include "convbook/train/metrics.hpp"

namespace convbook {

/// @brief One run's curves: its name (the legend) and its metrics rows.
struct RunCurves {
  std::string name;                ///< legend label, e.g. "small_cnn"
  std::vector<EpochMetrics> rows;  ///< one row per epoch
};

/// @brief Reads a run: `run` is a run folder (with metrics.csv inside) or a metrics.csv path.
/// The name is the folder's name.
/// @throws Error for a missing file or bad columns (see read_metrics_csv).
RunCurves load_run_curves(const std::string& run);

/// @brief Draws two panels, loss and accuracy vs epoch (train dashed, test solid, one colour per
/// run), to `png_path` with gnuplot's pngcairo terminal.
/// @throws Error when `runs` is empty, or when gnuplot fails to write the file.
void plot_curves_png(const std::vector<RunCurves>& runs, const std::string& png_path,
                     int width = 1100, int height = 440);

/// @brief The same two panels as text (gnuplot's dumb terminal), one above the other, for
/// printing at the end of training.
/// @throws Error when `runs` is empty or gnuplot cannot be run.
std::string plot_curves_text(const std::vector<RunCurves>& runs, int width = 90, int height = 40);

}  // namespace convbook
