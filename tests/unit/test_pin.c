/*
 * test_pin.c - runner/pin.c: CPU lists as sysfs writes them, NVML bus ids
 * to sysfs names, and the choice of a worker's CPU (GPU-local and allowed,
 * counted down from the highest, distinct per device), then a real pin of
 * this process.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "pin.h"

static void test_parse_list(void **st)
{
	cpu_set_t s;

	(void)st;
	assert_int_equal(pin_parse_list("0-3,8,10-11\n", &s), 7);
	assert_true(CPU_ISSET(0, &s) && CPU_ISSET(3, &s) && CPU_ISSET(8, &s) && CPU_ISSET(11, &s));
	assert_false(CPU_ISSET(4, &s) || CPU_ISSET(9, &s) || CPU_ISSET(12, &s));
	assert_int_equal(pin_parse_list("5", &s), 1);
	assert_int_equal(pin_parse_list("", &s), -1);
	assert_int_equal(pin_parse_list("3-1", &s), -1);
	assert_int_equal(pin_parse_list("0-3;4", &s), -1);
	assert_int_equal(pin_parse_list("a", &s), -1);
	assert_int_equal(pin_parse_list("0-99999", &s), -1);
	assert_int_equal(pin_parse_list(NULL, &s), -1);
}

static void test_bus_id(void **st)
{
	char out[32];

	(void)st;
	assert_int_equal(pin_sysfs_bus_id("00000000:18:00.0", out, sizeof(out)), 0);
	assert_string_equal(out, "0000:18:00.0");
	assert_int_equal(pin_sysfs_bus_id("00000001:AB:1F.3", out, sizeof(out)), 0);
	assert_string_equal(out, "0001:ab:1f.3");
	assert_int_equal(pin_sysfs_bus_id("", out, sizeof(out)), -1);
	assert_int_equal(pin_sysfs_bus_id("0000:18:00.0 x", out, sizeof(out)), -1);
	assert_int_equal(pin_sysfs_bus_id(NULL, out, sizeof(out)), -1);
}

static void test_choose(void **st)
{
	cpu_set_t numa0, numa1, all, two;

	(void)st;
	pin_parse_list("0-47", &numa0);
	pin_parse_list("48-95", &numa1);
	pin_parse_list("0-95", &all);
	/* 8 GPUs, 4 per NUMA node: different CPUs, each local, from the top */
	assert_int_equal(pin_choose(&numa0, &all, 0), 47);
	assert_int_equal(pin_choose(&numa0, &all, 3), 44);
	assert_int_equal(pin_choose(&numa1, &all, 4), 91);
	assert_int_equal(pin_choose(&numa1, &all, 7), 88);
	/* allowed (a launcher's binding) wins over locality when they do not meet */
	pin_parse_list("2-3", &two);
	assert_int_equal(pin_choose(&numa1, &two, 0), 3);
	assert_int_equal(pin_choose(&numa1, &two, 1), 2);
	assert_int_equal(pin_choose(&numa1, &two, 2), 3); /* modulo the count */
	assert_int_equal(pin_choose(NULL, &all, 1), 94);  /* locality unknown */
	CPU_ZERO(&two);
	assert_int_equal(pin_choose(&numa0, &two, 0), -1);
}

static void test_pin_this_process(void **st)
{
	cpu_set_t before, after;
	char why[128];
	int cpu;

	(void)st;
	assert_int_equal(sched_getaffinity(0, sizeof(before), &before), 0);
	cpu = pin_worker("", 0, why, sizeof(why)); /* no GPU here: locality unknown */
	assert_true(cpu >= 0);
	assert_non_null(strstr(why, "locality unknown"));
	assert_int_equal(sched_getaffinity(0, sizeof(after), &after), 0);
	assert_int_equal(CPU_COUNT(&after), 1);
	assert_true(CPU_ISSET(cpu, &after));
	assert_int_equal(cpu, pin_choose(NULL, &before, 0));
	sched_setaffinity(0, sizeof(before), &before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_list),
		cmocka_unit_test(test_bus_id),
		cmocka_unit_test(test_choose),
		cmocka_unit_test(test_pin_this_process),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
