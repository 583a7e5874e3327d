#include "cli/train_config.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <vector>

#include "convbook/error.hpp"

namespace convbook::cli {

namespace {

// The option a key names: `weight-decay` as typed on the command line, or `weight_decay` as
// options_to_json (the checkpoint's metadata) spells it, so a run's options can be copied back.
CLI::Option* find_option(CLI::App& command, std::string key) {
  if (CLI::Option* op = command.get_option_no_throw("--" + key)) return op;
  std::replace(key.begin(), key.end(), '_', '-');
  return command.get_option_no_throw("--" + key);
}

// The keys a file may use: every long option but --help and --config itself.
std::string expected_keys(const CLI::App& command) {
  std::string keys;
  for (const CLI::Option* op : command.get_options()) {
    for (const std::string& name : op->get_lnames()) {
      if (name == "help" || name == "config") continue;
      keys += (keys.empty() ? "" : ", ") + name;
    }
  }
  return keys;
}

}  // namespace

void apply_config_file(CLI::App& command, const std::string& path) {
  const std::string where = "--config '" + path + "'";
  if (!std::filesystem::is_regular_file(path)) {
    throw Error(where +
                ": no such file (expected a TOML file such as configs/resnet20_short.toml)");
  }
  std::vector<CLI::ConfigItem> items;
  try {
    items = CLI::ConfigTOML().from_file(path);
  } catch (const CLI::Error& e) {
    throw Error(where + ": cannot read it: " + e.what());
  }
  for (const CLI::ConfigItem& item : items) {
    // A `[section]` arrives as an item named "++" (and "--" when it closes) with parents.
    if (!item.parents.empty() || item.name == "++" || item.name == "--") {
      std::string section;
      for (const std::string& p : item.parents) section += (section.empty() ? "" : ".") + p;
      throw Error(where + ": section [" + section +
                  "] found, expected only top-level `key = value` lines (no sections)");
    }
    CLI::Option* op = find_option(command, item.name);
    if (op == nullptr || item.name == "help" || item.name == "config") {
      throw Error(where + ": unknown key '" + item.name + "', expected one of " +
                  expected_keys(command));
    }
    if (op->count() > 0) continue;  // the command line wins over the file
    try {
      if (op->get_expected_min() == 0) {  // a flag: `nesterov = true`
        op->add_result(op->get_flag_value(item.name, CLI::ConfigTOML().to_flag(item)));
      } else {
        op->add_result(item.inputs);
      }
      op->run_callback();  // validators (e.g. --schedule's names), then the variable is set
    } catch (const CLI::Error& e) {
      throw Error(where + ": key '" + item.name + "': " + e.what());
    }
  }
}

}  // namespace convbook::cli
