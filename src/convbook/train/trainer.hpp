#pragma once
/// @file trainer.hpp
/// @brief The training loop: data, SGD with a schedule, progress bar, per-epoch evaluation,
/// metrics.csv, checkpoints, --resume and a NaN guard.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "convbook/module.hpp"
#include "convbook/train/metrics.hpp"

namespace convbook {

struct CifarSet;

/// @brief Everything `convbook train` can be told; the defaults are the book's default run.
struct TrainOptions {
  std::string model = "small_cnn";  ///< model name (the factory decides what it means)
  std::size_t epochs = 15;          ///< epochs of the whole run
  std::size_t batch_size = 128;     ///< examples per SGD step
  double lr = 0.1;                  ///< peak learning rate
  double momentum = 0.9;            ///< SGD momentum
  double weight_decay = 5e-4;       ///< L2 weight decay (on every trainable parameter, as torch)
  bool nesterov = false;            ///< Nesterov momentum
  std::string schedule = "cosine";  ///< constant, step, multistep, cosine or onecycle
  std::size_t warmup = 0;           ///< linear warm-up epochs in front of the schedule
  std::size_t step_size = 0;        ///< step schedule: decay every this many epochs (0: epochs/3)
  double gamma = 0.1;               ///< step and multistep schedules: decay factor
  double label_smoothing = 0;       ///< cross-entropy label smoothing (0..1)
  std::string data;                 ///< --data folder ("" = the usual lookup, see data/cifar.hpp)
  std::string out;                  ///< run folder ("" = `runs/<model>`)
  std::uint64_t seed = 0;           ///< seeds the weights, the shuffling, augmentation, dropout
  int threads = 0;                  ///< OpenMP threads (0: OpenMP's default)
  bool resume = false;              ///< continue the run in `out` from its last checkpoint
  bool force = false;               ///< overwrite an existing run folder
  std::size_t stop_after = 0;       ///< stop after this epoch as if interrupted (0: run all);
                                    ///< the schedule still spans `epochs`, --resume continues
  std::size_t max_train = 0;        ///< use only the first N training examples (0: all)
  std::size_t max_test = 0;         ///< use only the first N test examples (0: all)
  bool augment = true;              ///< random crop + horizontal flip on training batches
  bool show_progress = true;        ///< draw the progress bar on stderr
  bool plot = true;                 ///< write curves.png each epoch and a text plot at the end
  /// multistep schedule: epochs of the run at which lr is multiplied by gamma (increasing)
  std::vector<std::size_t> milestones;
};

/// @brief The options as a JSON object (stored in the checkpoint's metadata).
std::string options_to_json(const TrainOptions& options);

/// @brief Checks what can be checked without data: epochs, batch size, label smoothing, threads
/// and the schedule (its name, warm-up, gamma, milestones).
/// @throws Error naming the option, the value found and the value expected.
void check_train_options(const TrainOptions& options);

/// @brief Builds a fresh model for `num_classes` classes (weights drawn from global_rng()).
using ModelFactory = std::function<ModulePtr(std::size_t num_classes)>;

/// @brief What a finished run returns.
struct TrainResult {
  std::string run_dir;                ///< where metrics.csv, the checkpoints and curves.png are
  std::vector<EpochMetrics> history;  ///< every epoch so far (resumed runs include earlier ones)
  std::string data_description;       ///< what data was used
};

/// @brief Trains `factory`'s model as `options` say, writing into the run folder each epoch:
/// metrics.csv, checkpoint.safetensors (the model's state_dict, loadable by PyTorch),
/// optimizer.safetensors (momentum buffers) and curves.png. Messages go to `log`.
/// @throws Error when the run folder exists without --resume/--force, when there is nothing to
/// resume from, when the data cannot be loaded, or when the loss becomes NaN or infinite (the
/// message names the epoch and batch; the last good epoch's checkpoint stays on disk).
TrainResult train_model(const TrainOptions& options, const ModelFactory& factory,
                        std::ostream& log);

/// @brief Test loss and accuracy of a model.
struct EvalResult {
  double loss = 0;           ///< mean cross-entropy
  double accuracy = 0;       ///< fraction right (0..1)
  std::size_t examples = 0;  ///< how many examples were evaluated
};

/// @brief Evaluates `model` in eval mode on `data` (normalized, not augmented) and restores
/// its training mode afterwards.
EvalResult evaluate(Module& model, const CifarSet& data, std::size_t batch_size,
                    double label_smoothing = 0);

/// @brief The first `max` examples of `set` (all when max is 0 or larger than the set).
CifarSet take_first(const CifarSet& set, std::size_t max);

}  // namespace convbook
