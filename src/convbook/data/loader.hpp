#pragma once
/// @file loader.hpp
/// @brief Mini-batches of a CifarSet, shuffled and augmented by a background thread.
///
/// While the network works on batch b, a worker thread crops, flips and normalizes batches
/// b+1 and b+2 into a small bounded queue (a producer-consumer pair on one mutex and two
/// condition variables). Everything random comes from (seed, epoch), so a run is reproducible
/// whatever the thread timing.
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "convbook/data/augment.hpp"
#include "convbook/data/cifar.hpp"
#include "convbook/tensor.hpp"

namespace convbook {

/// @brief One mini-batch.
struct Batch {
  Tensor images;            ///< (B, 3, 32, 32), normalized
  std::vector<int> labels;  ///< B labels
};

/// @brief Iterates over a CifarSet in mini-batches, one epoch at a time.
///
/// Usage:
/// ```
/// BatchLoader loader(data.train, 128, /*train=*/true, seed);
/// for (std::size_t epoch = 0; epoch < epochs; ++epoch) {
///   loader.start_epoch(epoch);
///   Batch batch;
///   while (loader.next(batch)) { ... }
/// }
/// ```
class BatchLoader {
 public:
  /// @brief A loader over `data`, which must outlive it.
  /// @param data the images and labels
  /// @param batch_size images per batch (> 0); the last batch of an epoch may be smaller
  /// @param train true: shuffle each epoch and augment; false: file order, no augmentation
  /// @param seed with the epoch number, fixes the order and the augmentation draws
  /// @param aug the augmentations applied when `train`
  /// @param norm the normalization applied to every image
  /// @throws Error when batch_size is 0.
  BatchLoader(const CifarSet& data, std::size_t batch_size, bool train, std::uint64_t seed,
              AugmentOptions aug = {}, Normalize norm = {});
  /// @brief Stops and joins the worker, also in the middle of an epoch.
  ~BatchLoader();
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  /// @brief Batches per epoch: ceil(N / batch_size).
  std::size_t num_batches() const;
  /// @brief Begins epoch `epoch`: fixes its order from (seed, epoch) and starts the worker.
  /// Any unfinished previous epoch is abandoned.
  void start_epoch(std::size_t epoch);
  /// @brief The next batch of the epoch, in order.
  /// @return false when the epoch is over (`out` is then unchanged)
  /// @throws Error when no epoch was started, or what the worker threw.
  bool next(Batch& out);
  /// @brief The sample indices of the current epoch, in the order they are served.
  const std::vector<std::size_t>& order() const { return order_; }

 private:
  void stop_worker();
  void produce(std::uint64_t augment_seed);
  Batch make_batch(std::size_t b, Rng& rng) const;

  const CifarSet& data_;
  std::size_t batch_size_;
  bool train_;
  std::uint64_t seed_;
  AugmentOptions aug_;
  Normalize norm_;

  std::vector<std::size_t> order_;
  std::size_t served_ = 0;  ///< batches handed out by next() in this epoch
  bool started_ = false;

  // shared between next() and the worker, guarded by mutex_
  std::mutex mutex_;
  std::condition_variable ready_;  ///< the worker pushed a batch (or failed)
  std::condition_variable space_;  ///< next() took a batch, or stop was asked
  std::deque<Batch> queue_;
  bool stop_ = false;
  std::exception_ptr error_;
  std::thread worker_;
};

}  // namespace convbook
