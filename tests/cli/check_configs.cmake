# Every configs/*.toml parses with `convbook train --config FILE --dry-run`: its keys are
# options, its values pass their checks (schedule names, milestones inside the run) and the
# options printed name the file's model. A model this build does not register yet is skipped
# with a message (its keys and schedule are checked before the model name); any other error
# fails.
#   cmake -DCONVBOOK=<convbook binary> -DCONFIG_DIR=<repo>/configs -P check_configs.cmake
file(GLOB configs ${CONFIG_DIR}/*.toml)
if(NOT configs)
  message(FATAL_ERROR "no configs found in ${CONFIG_DIR}")
endif()
set(checked 0)
foreach(config IN LISTS configs)
  execute_process(COMMAND ${CONVBOOK} train --config ${config} --dry-run
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  file(STRINGS ${config} model_line REGEX "^model = ")
  string(REGEX REPLACE "^model = \"([^\"]+)\".*" "\\1" model "${model_line}")
  if(NOT rc EQUAL 0 AND err MATCHES "unknown model '${model}'")
    message(STATUS "skipped ${config}: model '${model}' is not registered in this build yet")
    continue()
  endif()
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${config}: convbook exited with ${rc}: ${err}")
  endif()
  string(JSON found GET "${out}" model)
  if(NOT found STREQUAL model)
    message(FATAL_ERROR "${config}: --dry-run printed model '${found}', the file says '${model}'")
  endif()
  message(STATUS "ok ${config}: ${out}")
  math(EXPR checked "${checked} + 1")
endforeach()
if(checked EQUAL 0)
  message(FATAL_ERROR "no config in ${CONFIG_DIR} could be checked (none names a model of this build)")
endif()
