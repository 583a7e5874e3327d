# Chapter 10: torchvision <-> convbook interop, on fixtures written into the build directory at
# test time by tests/tools/export_torchvision.py (resnet50's weights are 100 MB: never committed).
#   1. export (FIXTURES_SETUP ch10_torchvision): torchvision models with random weights, an
#      input and their logits;
#   2. test_ch10 "[torchvision]": those weights loaded into convbook give the same logits; it
#      also saves convbook checkpoints and logits for step 4;
#   3. `convbook forward` on the resnet18 export;
#   4. check: convbook's checkpoints load into torchvision (strict) and give convbook's logits,
#      and the CLI's output equals torchvision's.
# Test names have no spaces (the project's cmake_minimum_required predates CMP0110).
# Without torchvision for /usr/bin/python3, step 1 writes SKIPPED.txt and every step reports
# "Skipped" with what to install (scripts/install-deps.sh --fixtures).
set(interop_dir ${CMAKE_BINARY_DIR}/torchvision_interop)
set(export_script ${CMAKE_CURRENT_SOURCE_DIR}/tools/export_torchvision.py)
set(CONVBOOK_FIXTURE_PYTHON /usr/bin/python3 CACHE STRING
    "Python with torch and torchvision for the interop tests (Debian's python3-torch)")
set(python ${CONVBOOK_FIXTURE_PYTHON})
if(NOT EXISTS "${python}" AND NOT "${python}" MATCHES "^[^/]+$")
  set(python sh -c "echo 'SKIPPED: ${CONVBOOK_FIXTURE_PYTHON} not found; install it with scripts/install-deps.sh --fixtures' | tee ${interop_dir}/SKIPPED.txt; exit 77" --)
  file(MAKE_DIRECTORY ${interop_dir})
endif()
set(skip_if_no_export "if [ -f ${interop_dir}/SKIPPED.txt ]; then cat ${interop_dir}/SKIPPED.txt; exit 77; fi")

add_test(NAME ch10:interop_export_torchvision COMMAND ${python} ${export_script} export ${interop_dir})
set_tests_properties(ch10:interop_export_torchvision PROPERTIES
  FIXTURES_SETUP ch10_torchvision SKIP_RETURN_CODE 77 LABELS "ch10;interop" TIMEOUT 900)

add_test(NAME ch10:interop_torchvision_weights_in_convbook
         COMMAND test_ch10 "[torchvision]")
set_tests_properties(ch10:interop_torchvision_weights_in_convbook PROPERTIES
  FIXTURES_REQUIRED ch10_torchvision FIXTURES_SETUP ch10_convbook_outputs
  ENVIRONMENT "CONVBOOK_INTEROP_DIR=${interop_dir};OMP_WAIT_POLICY=PASSIVE"
  SKIP_REGULAR_EXPRESSION "SKIPPED:" LABELS "ch10;interop" TIMEOUT 900)

add_test(NAME ch10:interop_convbook_forward_cli
         COMMAND sh -c "${skip_if_no_export}; exec \"$0\" forward --model resnet18 --weights ${interop_dir}/resnet18.safetensors --input ${interop_dir}/input.safetensors --output ${interop_dir}/cli_resnet18.safetensors"
                 $<TARGET_FILE:convbook_cli>)
set_tests_properties(ch10:interop_convbook_forward_cli PROPERTIES
  FIXTURES_REQUIRED ch10_torchvision FIXTURES_SETUP ch10_convbook_outputs
  ENVIRONMENT OMP_WAIT_POLICY=PASSIVE SKIP_RETURN_CODE 77 LABELS "ch10;interop" TIMEOUT 600)

add_test(NAME ch10:interop_convbook_checkpoints_in_torchvision
         COMMAND ${python} ${export_script} check ${interop_dir})
set_tests_properties(ch10:interop_convbook_checkpoints_in_torchvision PROPERTIES
  FIXTURES_REQUIRED "ch10_torchvision;ch10_convbook_outputs" SKIP_RETURN_CODE 77
  LABELS "ch10;interop" TIMEOUT 600)
