# `convbook train --config multistep.toml --epochs 2 ...` on 256 sample images, then what the
# run recorded: the options in its checkpoint's metadata (file values, with the command line's
# --epochs on top) and the per-epoch lr in metrics.csv (multistep: 0.05, then 0.05 * 0.5).
#   cmake -DCONVBOOK=<binary> -DCONFIG=<toml> -DDATA=<sample> -DRUN=<run folder> -P ...
file(REMOVE_RECURSE ${RUN})
execute_process(COMMAND ${CONVBOOK} train --config ${CONFIG} --epochs 2 --max-train 256
                        --max-test 128 --data ${DATA} --out ${RUN} --threads 2 --no-progress
                        --no-plot
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "convbook train exited with ${rc}:\n${out}\n${err}")
endif()

# safetensors: an 8-byte little-endian header length, then the JSON header.
file(READ ${RUN}/checkpoint.safetensors length_hex LIMIT 4 HEX)  # headers are < 4 GB
string(REGEX REPLACE "(..)(..)(..)(..)" "\\4\\3\\2\\1" length_hex "${length_hex}")
math(EXPR length "0x${length_hex}")
file(READ ${RUN}/checkpoint.safetensors header OFFSET 8 LIMIT ${length})
string(JSON options GET "${header}" __metadata__ options)
message(STATUS "options in the checkpoint: ${options}")
foreach(pair IN ITEMS "model=small_cnn" "epochs=2" "lr=0.05" "momentum=0.8" "nesterov=ON"
                      "weight_decay=0.0001" "schedule=multistep" "gamma=0.5" "max_train=256")
  string(REPLACE "=" ";" kv ${pair})
  list(GET kv 0 key)
  list(GET kv 1 expected)
  string(JSON value GET "${options}" ${key})
  string(REPLACE "." "\\." pattern "${expected}")
  # CMake prints doubles with 17 digits (0.05 -> 0.050000000000000003): compare the prefix.
  if(NOT value MATCHES "^${pattern}(0000+[0-9]*)?$")
    message(FATAL_ERROR "options: ${key} is '${value}', expected '${expected}'")
  endif()
endforeach()
string(JSON milestones GET "${options}" milestones)
string(REGEX REPLACE "[ \n]" "" milestones "${milestones}")
if(NOT milestones STREQUAL "[1,2]")
  message(FATAL_ERROR "options: milestones are ${milestones}, expected [1,2]")
endif()

file(STRINGS ${RUN}/metrics.csv rows)
list(LENGTH rows n)
if(NOT n EQUAL 3)
  message(FATAL_ERROR "metrics.csv has ${n} lines, expected a header and 2 epochs")
endif()
list(GET rows 1 epoch1)
list(GET rows 2 epoch2)
if(NOT epoch1 MATCHES "^1,0\\.05," OR NOT epoch2 MATCHES "^2,0\\.025,")
  message(FATAL_ERROR "metrics.csv lr per epoch: '${epoch1}', '${epoch2}', expected 0.05 then "
                      "0.025 (x0.5 at milestone 1)")
endif()
