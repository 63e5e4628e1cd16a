# SPDX-License-Identifier: GPL-2.0-or-later
# Turns markdown into one roff man page (cmake -P). The sources keep the repository's shape:
# a first line "# name(N)" (dropped: .TH carries it) or, for a reference page reused as the
# body of a man page (docs/biogatectl.md), a first line "# name" (becomes DESCRIPTION);
# "## X" sections become .SH. Variables: PANDOC, OUT, NAME, SECTION, VERSION, INPUTS (comma-separated).
string(REPLACE "," ";" INPUTS "${INPUTS}")
set(all "")
foreach(in IN LISTS INPUTS)
  file(READ "${in}" text)
  string(REGEX REPLACE "<!--[^\n]*-->\n" "" text "${text}")
  string(REGEX REPLACE "^# [^\n]*\\([0-9]\\)\n" "" text "${text}")
  string(REGEX REPLACE "^# [^\n]*\n" "## DESCRIPTION\n" text "${text}")
  string(APPEND all "${text}\n")
endforeach()
file(WRITE "${OUT}.md" "${all}")
execute_process(
  COMMAND "${PANDOC}" --from=markdown --to=man --standalone --shift-heading-level-by=-1
          --metadata=title:${NAME} --metadata=section:${SECTION}
          "--metadata=footer:biogate ${VERSION}" --metadata=header:biogate
          --output=${OUT} ${OUT}.md
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pandoc failed for ${NAME}(${SECTION})")
endif()
# Left-aligned text: the narrow columns of the wide tables (biogatectl's commands and exit
# codes) cannot be justified, and groff warns about every such line (lintian's groff-message).
file(READ "${OUT}" roff)
string(REGEX REPLACE "
(\.TH [^
]*)
" "
\1
.ad l
" roff "${roff}")
file(WRITE "${OUT}" "${roff}")
