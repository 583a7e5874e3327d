#pragma once
/// @file progress.hpp
/// @brief A one-line training progress bar: epoch, batch i/n, loss, accuracy, images/s.
#include <chrono>
#include <cstddef>
#include <ostream>

namespace convbook {

/// @brief Draws progress to a stream (stderr in the trainer).
///
/// On a terminal the line is redrawn in place with a carriage return at most ~10 times a second; otherwise
/// (a log file, a pipe) a plain line is written about every 10% of the epoch so logs stay short.
class ProgressBar {
 public:
  /// @brief `interactive` chooses carriage-return redraws (a terminal) or plain lines.
  ProgressBar(std::ostream& out, bool interactive);
  /// @brief True when stderr is a terminal.
  static bool stderr_is_terminal();

  /// @brief Starts an epoch of `num_batches` batches.
  void start(std::size_t epoch, std::size_t epochs, std::size_t num_batches);
  /// @brief Reports batch `batch` (1-based) done, with running mean loss, accuracy (0..1) and
  /// the throughput so far.
  void update(std::size_t batch, double loss, double accuracy, double images_per_s);
  /// @brief Ends the epoch's line (newline on a terminal).
  void finish();

 private:
  void draw(std::size_t batch, double loss, double accuracy, double images_per_s);
  std::ostream& out_;
  bool interactive_;
  std::size_t epoch_ = 0, epochs_ = 0, num_batches_ = 0, last_printed_ = 0;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace convbook
