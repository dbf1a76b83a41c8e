# Fails when the schema reproduced in the protocol page's appendix differs from the schema
# itself, so that a client writer who reads only the page reads the real schema.
#
#   cmake -DPAGE=docs/protocol.md -DSCHEMA=engine/proto/oddsdesk/v1/feed.proto \
#         -P tests/protocol_schema.cmake
cmake_minimum_required(VERSION 3.22)

if(NOT PAGE OR NOT SCHEMA)
    message(FATAL_ERROR
        "usage: cmake -DPAGE=<protocol.md> -DSCHEMA=<feed.proto> -P ${CMAKE_SCRIPT_MODE_FILE}")
endif()

# The appendix's heading, then the first code block marked proto after it.
set(heading "\n## Appendix: The schema\n")
set(opening "\n```proto\n")
set(closing "\n```")

file(READ "${PAGE}" page)
file(READ "${SCHEMA}" schema)

string(FIND "${page}" "${heading}" headingAt)
if(headingAt EQUAL -1)
    message(FATAL_ERROR "${PAGE} has no heading \"## Appendix: The schema\"")
endif()
string(SUBSTRING "${page}" ${headingAt} -1 appendix)
string(FIND "${appendix}" "${opening}" openingAt)
if(openingAt EQUAL -1)
    message(FATAL_ERROR "${PAGE}: the appendix has no ```proto block")
endif()
string(LENGTH "${opening}" openingLength)
math(EXPR blockAt "${openingAt} + ${openingLength}")
string(SUBSTRING "${appendix}" ${blockAt} -1 block)
string(FIND "${block}" "${closing}" closingAt)
if(closingAt EQUAL -1)
    message(FATAL_ERROR "${PAGE}: the appendix's ```proto block is not closed")
endif()
# The block keeps the newline of its last line, as the schema file ends with one.
math(EXPR blockLength "${closingAt} + 1")
string(SUBSTRING "${block}" 0 ${blockLength} block)

if("${block}" STREQUAL "${schema}")
    message(STATUS "the appendix of ${PAGE} is ${SCHEMA}, word for word")
    return()
endif()

# Name the first line that differs. Semicolons and brackets would split or hold together
# CMake list items, so they are masked before the text is cut into lines.
function(lines_of text out)
    string(REPLACE ";" "<semicolon>" text "${text}")
    string(REPLACE "[" "<open>" text "${text}")
    string(REPLACE "]" "<close>" text "${text}")
    string(REPLACE "\n" ";" text "${text}")
    set(${out} "${text}" PARENT_SCOPE)
endfunction()
function(unmask text out)
    string(REPLACE "<semicolon>" ";" text "${text}")
    string(REPLACE "<open>" "[" text "${text}")
    string(REPLACE "<close>" "]" text "${text}")
    set(${out} "${text}" PARENT_SCOPE)
endfunction()

lines_of("${block}" blockLines)
lines_of("${schema}" schemaLines)
list(LENGTH blockLines blockCount)
list(LENGTH schemaLines schemaCount)
set(count ${blockCount})
if(schemaCount GREATER count)
    set(count ${schemaCount})
endif()
set(line 0)
while(line LESS count)
    set(inBlock "(nothing)")
    set(inSchema "(nothing)")
    if(line LESS blockCount)
        list(GET blockLines ${line} inBlock)
    endif()
    if(line LESS schemaCount)
        list(GET schemaLines ${line} inSchema)
    endif()
    if(NOT "${inBlock}" STREQUAL "${inSchema}")
        break()
    endif()
    math(EXPR line "${line} + 1")
endwhile()
math(EXPR lineNumber "${line} + 1")
unmask("${inBlock}" inBlock)
unmask("${inSchema}" inSchema)
message(FATAL_ERROR "The appendix of ${PAGE} differs from ${SCHEMA} at line ${lineNumber} of "
    "the schema:\n  appendix: ${inBlock}\n  schema:   ${inSchema}\n"
    "Copy the schema into the appendix's ```proto block.")
