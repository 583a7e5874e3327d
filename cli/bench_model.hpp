#pragma once
/// @file bench_model.hpp
/// @brief `convbook bench model`: the options of chapter 00's model benchmark
/// (model_benchmark.hpp) on the command line, with the model zoo's names.
#include <CLI/CLI.hpp>
#include <ostream>

#include "chapters/00_framework/model_benchmark.hpp"

namespace convbook::cli {

/// @brief Adds the `model` subcommand and its options to `bench`; they are parsed into `o`.
/// @return the subcommand (true once the command line chose it)
CLI::App* add_bench_model_command(CLI::App& bench, ModelBenchOptions& o);

/// @brief Runs the model benchmark on the zoo's models (10 classes).
/// @return 0
/// @throws Error on an unknown model name or a bad option value (see
///   check_model_bench_options).
int run_bench_model(const ModelBenchOptions& o, std::ostream& out);

}  // namespace convbook::cli
