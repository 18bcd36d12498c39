# Seeds a corpus with the binlog files under SEEDS and runs FUZZER for SECONDS.
# Fails when the fuzzer finds a crash, a leak or a sanitizer error.
file(MAKE_DIRECTORY ${CORPUS})
file(GLOB_RECURSE candidates ${SEEDS}/std_data/* ${SEEDS}/suite/binlog/std_data/*)
foreach(f ${candidates})
  file(SIZE ${f} size)
  if(size GREATER 4 AND size LESS 65536)
    file(READ ${f} head LIMIT 4 HEX)
    if(head STREQUAL "fe62696e")
      file(COPY ${f} DESTINATION ${CORPUS})
    endif()
  endif()
endforeach()
execute_process(COMMAND ${FUZZER} ${CORPUS} -max_total_time=${SECONDS} -max_len=65536
                        -rss_limit_mb=2048 -print_final_stats=1
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "fuzzer exited with ${rc}")
endif()
