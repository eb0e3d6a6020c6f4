/*
 * check_version.c - the header's version macros agree with the library, and
 * every error code and enum has a name.
 */
#include <string.h>

#include "tests.h"

START_TEST(header_matches_library) {
    const char *s = NULL;
    ck_assert_uint_eq(csbot_version(&s), CSBOT_VERSION_NUM);
    ck_assert_str_eq(s, CSBOT_VERSION_STRING);
    ck_assert(CSBOT_VERSION_AT_LEAST(0, 1, 0));
    ck_assert(!CSBOT_VERSION_AT_LEAST(CSBOT_VERSION_MAJOR + 1, 0, 0));
    ck_assert_uint_eq(csbot_version(NULL), CSBOT_VERSION_NUM);
}
END_TEST

START_TEST(strerror_never_null) {
    for (int c = -20; c <= 5; c++) {
        const char *m = csbot_strerror(c);
        ck_assert_ptr_nonnull(m);
        ck_assert_int_gt((int)strlen(m), 0);
    }
    ck_assert_str_eq(csbot_strerror(12345), "unknown error");
    ck_assert_str_ne(csbot_strerror(CSBOT_EUTF8), csbot_strerror(CSBOT_EJSON));
}
END_TEST

START_TEST(enum_names) {
    ck_assert_str_eq(csbot_lang_name(CSBOT_LANG_ZH_HANT), "zh-Hant");
    ck_assert_str_eq(csbot_action_name(CSBOT_ACTION_SUGGEST), "suggest");
    ck_assert_str_eq(csbot_handoff_reason_name(CSBOT_HANDOFF_SENTIMENT),
                     "sentiment");
    ck_assert_str_eq(csbot_lang_name((csbot_lang)99), "unknown");
}
END_TEST

Suite *version_suite(void) {
    Suite *s = suite_create("version");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, header_matches_library);
    tcase_add_test(tc, strerror_never_null);
    tcase_add_test(tc, enum_names);
    suite_add_tcase(s, tc);
    return s;
}
