#pragma once
/// @file train_config.hpp
/// @brief `convbook train --config FILE`: train options from a TOML file, under the command line.
#include <string>

namespace CLI {
class App;
}

namespace convbook::cli {

/// @brief Reads `path` (TOML: `key = value` lines, keys are `command`'s long option names
/// without the leading dashes, `weight-decay` or `weight_decay`, arrays as `[82, 123]`) and
/// gives each option the file's value unless the command line already gave it one.
///
/// CLI11 2.1.2's own `set_config` reads config files for the main program only, never for a
/// subcommand, so the file is applied here, after parsing, the way CLI11 applies its own.
/// @throws Error naming the file for a missing or unreadable file, a `[section]`, a key that is
/// not an option of `command` (named, with the keys expected) or a value the option rejects.
void apply_config_file(CLI::App& command, const std::string& path);

}  // namespace convbook::cli
