/* main.c - STUB entry point (replaced by the CLI work). */
#include <stdio.h>
int main(void) { puts("aisp"); return 0; }
