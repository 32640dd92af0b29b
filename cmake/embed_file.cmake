# Turn a file into a C source defining one function that returns its bytes:
#   cmake -DIN=engine/web/index.html -DOUT=obs_page.c -DFUNC=sl_obs_page_html -P embed_file.cmake
# (used for the web page served at "/", so the binary needs no files at run time).
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR len "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x[0-9a-f][0-9a-f],0x[0-9a-f][0-9a-f],0x[0-9a-f][0-9a-f],0x[0-9a-f][0-9a-f],0x[0-9a-f][0-9a-f],0x[0-9a-f][0-9a-f],0x[0-9a-f][0-9a-f],0x[0-9a-f][0-9a-f],0x[0-9a-f][0-9a-f],0x[0-9a-f][0-9a-f],0x[0-9a-f][0-9a-f],0x[0-9a-f][0-9a-f],0x[0-9a-f][0-9a-f],0x[0-9a-f][0-9a-f],0x[0-9a-f][0-9a-f],0x[0-9a-f][0-9a-f])" "\\1\n" bytes "${bytes}")
file(WRITE "${OUT}" "/* Generated from ${IN} by cmake/embed_file.cmake: do not edit. */
#include <stddef.h>

static const char data[${len} + 1] = {
${bytes}0x00};

const char *${FUNC}(size_t *len)
{
    if (len)
        *len = ${len};
    return data;
}
")
