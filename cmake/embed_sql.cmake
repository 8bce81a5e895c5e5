# Turn the migration files into a C source file (run at build time):
#   cmake -DOUT=file.c -DFILES="a.sql;b.sql" -P embed_sql.cmake
# Each file becomes one NUL-terminated string; the migration's version is the
# number its file name starts with (001_ledger.sql is version 1).
set(body "/* Generated from the sql directory by cmake/embed_sql.cmake; do not edit. */\n#include \"base/migrate.h\"\n\n")
set(table "const struct migration migrations[] = {\n")
set(count 0)
foreach(f IN LISTS FILES)
	get_filename_component(name "${f}" NAME)
	string(REGEX MATCH "^[0-9]+" version "${name}")
	math(EXPR version "${version}")
	file(READ "${f}" hex HEX)
	string(REGEX REPLACE "(..)" "0x\\1," bytes "${hex}")
	string(APPEND body "static const char sql_${count}[] = { ${bytes} 0x00 };\n")
	string(APPEND table "\t{ ${version}, \"${name}\", sql_${count} },\n")
	math(EXPR count "${count} + 1")
endforeach()
string(APPEND table "};\nconst unsigned nmigrations = ${count};\n")
file(WRITE "${OUT}.tmp" "${body}\n${table}")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different "${OUT}.tmp" "${OUT}")
