#pragma once
/// @file metrics.hpp
/// @brief One row per epoch of a run, stored as `runs/<name>/metrics.csv`.
#include <cstddef>
#include <string>
#include <vector>

namespace convbook {

/// @brief What a run measured in one epoch.
struct EpochMetrics {
  std::size_t epoch = 0;    ///< 1-based epoch number
  double lr = 0;            ///< learning rate of the epoch's last iteration
  double train_loss = 0;    ///< mean training loss over the epoch's examples
  double train_acc = 0;     ///< fraction of training examples classified right (0..1)
  double test_loss = 0;     ///< mean loss on the test set (eval mode)
  double test_acc = 0;      ///< test accuracy (0..1)
  double seconds = 0;       ///< wall time of the epoch, evaluation included
  double images_per_s = 0;  ///< training throughput (forward + backward + step)
};

/// @brief The header line of metrics.csv, without the newline.
extern const char* const kMetricsHeader;

/// @brief Writes `contents` to `path` so that a reader never sees a half-written file:
/// write path.tmp, fsync, rename over path.
/// @throws Error naming the path when any step fails.
void write_file_atomic(const std::string& path, const std::string& contents);

/// @brief The CSV text of `rows` (header line first).
std::string metrics_to_csv(const std::vector<EpochMetrics>& rows);
/// @brief Writes metrics.csv atomically (see write_file_atomic).
void write_metrics_csv(const std::string& path, const std::vector<EpochMetrics>& rows);
/// @brief Reads a metrics.csv written by write_metrics_csv.
/// @throws Error for a missing file, a header without the expected columns, or a line with
/// the wrong number of fields or a field that is not a number (naming file and line).
std::vector<EpochMetrics> read_metrics_csv(const std::string& path);

}  // namespace convbook
