#include "convbook/train/progress.hpp"

#include <unistd.h>

#include <cstdio>
#include <iomanip>
#include <sstream>
#include <string>

namespace convbook {

ProgressBar::ProgressBar(std::ostream& out, bool interactive)
    : out_(out), interactive_(interactive) {}

bool ProgressBar::stderr_is_terminal() {
  return ::isatty(fileno(stderr)) != 0;
}

void ProgressBar::start(std::size_t epoch, std::size_t epochs, std::size_t num_batches) {
  epoch_ = epoch;
  epochs_ = epochs;
  num_batches_ = num_batches;
  last_printed_ = 0;
  drawn_ = false;
}

void ProgressBar::update(std::size_t batch, double loss, double accuracy, double images_per_s) {
  const bool last = batch == num_batches_;
  if (interactive_) {
    const auto now = std::chrono::steady_clock::now();
    if (!last && drawn_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
  } else {
    // Plain lines: about every 10% of the epoch, and the last batch.
    const std::size_t every = num_batches_ >= 10 ? num_batches_ / 10 : 1;
    if (!last && batch - last_printed_ < every) return;
    last_printed_ = batch;
  }
  draw(batch, loss, accuracy, images_per_s);
}

void ProgressBar::draw(std::size_t batch, double loss, double accuracy, double images_per_s) {
  constexpr int kWidth = 24;
  const double done = num_batches_ ? double(batch) / double(num_batches_) : 1.0;
  const int filled = int(done * kWidth + 0.5);
  std::ostringstream line;
  line << "epoch " << epoch_ << '/' << epochs_ << " [" << std::string(std::size_t(filled), '#')
       << std::string(std::size_t(kWidth - filled), '.') << "] " << batch << '/' << num_batches_
       << std::fixed << std::setprecision(4) << "  loss " << loss << std::setprecision(1)
       << "  acc " << 100.0 * accuracy << "%  " << std::setprecision(0) << images_per_s << " img/s";
  if (interactive_) {
    out_ << '\r' << line.str() << "\033[K" << std::flush;  // \033[K clears the old line's tail
  } else {
    out_ << line.str() << '\n' << std::flush;
  }
  drawn_ = true;
}

void ProgressBar::finish() {
  if (interactive_ && drawn_) out_ << '\n' << std::flush;
  drawn_ = false;
}

}  // namespace convbook
