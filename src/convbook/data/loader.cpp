#include "convbook/data/loader.hpp"

#include <algorithm>
#include <numeric>
#include <utility>

#include "convbook/error.hpp"

namespace convbook {

namespace {

/// Batches prepared ahead of the consumer: two is enough to hide the augmentation time behind
/// a training step, and bounds the memory to two batches.
constexpr std::size_t kQueueCapacity = 2;

/// splitmix64 (Steele et al. 2014): turns (seed, epoch, stream) into well-mixed seeds, so
/// nearby seeds and epochs give unrelated sequences.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

std::uint64_t epoch_seed(std::uint64_t seed, std::size_t epoch, std::uint64_t stream) {
  return mix(mix(mix(seed) ^ std::uint64_t(epoch)) ^ stream);
}

}  // namespace

BatchLoader::BatchLoader(const CifarSet& data, std::size_t batch_size, bool train,
                         std::uint64_t seed, AugmentOptions aug, Normalize norm)
    : data_(data), batch_size_(batch_size), train_(train), seed_(seed), aug_(aug), norm_(norm) {
  if (batch_size == 0) throw Error("BatchLoader: batch_size must be at least 1, got 0");
}

BatchLoader::~BatchLoader() {
  stop_worker();
}

std::size_t BatchLoader::num_batches() const {
  return (data_.size() + batch_size_ - 1) / batch_size_;
}

void BatchLoader::stop_worker() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  space_.notify_all();
  if (worker_.joinable()) worker_.join();
}

//! [loader-epoch]
void BatchLoader::start_epoch(std::size_t epoch) {
  stop_worker();  // an unfinished epoch is abandoned
  order_.resize(data_.size());
  std::iota(order_.begin(), order_.end(), std::size_t(0));
  if (train_) {
    // Fisher-Yates with our own Rng: std::shuffle's algorithm is implementation-defined,
    // this order is the same on every machine.
    Rng rng(epoch_seed(seed_, epoch, 1));
    for (std::size_t i = order_.size(); i > 1; --i) {
      std::swap(order_[i - 1], order_[rng.below(i)]);
    }
  }
  served_ = 0;
  started_ = true;
  queue_.clear();
  error_ = nullptr;
  stop_ = false;
  worker_ = std::thread(&BatchLoader::produce, this, epoch_seed(seed_, epoch, 2));
}
//! [loader-epoch]

//! [loader-worker]
// The producer: builds batches in order and waits while the queue is full.
void BatchLoader::produce(std::uint64_t augment_seed) {
  Rng rng(augment_seed);  // one stream, consumed in batch order: deterministic
  try {
    for (std::size_t b = 0; b < num_batches(); ++b) {
      Batch batch = make_batch(b, rng);
      std::unique_lock<std::mutex> lock(mutex_);
      space_.wait(lock, [this] { return stop_ || queue_.size() < kQueueCapacity; });
      if (stop_) return;
      queue_.push_back(std::move(batch));
      lock.unlock();
      ready_.notify_one();
    }
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex_);
    error_ = std::current_exception();
  }
  ready_.notify_one();
}

// The consumer: takes the oldest batch, waiting for the worker when it is behind.
bool BatchLoader::next(Batch& out) {
  if (!started_) throw Error("BatchLoader::next: call start_epoch(epoch) first");
  if (served_ == num_batches()) return false;
  std::unique_lock<std::mutex> lock(mutex_);
  ready_.wait(lock, [this] { return !queue_.empty() || error_; });
  if (queue_.empty()) std::rethrow_exception(error_);
  out = std::move(queue_.front());
  queue_.pop_front();
  ++served_;
  lock.unlock();
  space_.notify_one();
  return true;
}
//! [loader-worker]

Batch BatchLoader::make_batch(std::size_t b, Rng& rng) const {
  const std::size_t first = b * batch_size_;
  const std::size_t count = std::min(batch_size_, data_.size() - first);
  Batch batch;
  batch.images = zeros({count, kCifarChannels, kCifarSize, kCifarSize});
  batch.labels.resize(count);
  std::uint8_t augmented[kCifarImageBytes];
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t index = order_[first + i];
    const std::uint8_t* image = data_.image(index);
    if (train_) {
      crop_and_flip(image, draw_augmentation(aug_, rng), augmented);
      image = augmented;
    }
    normalize_image(image, norm_, batch.images.data() + i * kCifarImageBytes);
    batch.labels[i] = data_.labels[index];
  }
  return batch;
}

}  // namespace convbook
