// Entry point: all wiring lives in src/app.
#include "app/cli.h"

int main(int argc, char** argv) { return ts::app::RunCli(argc, argv); }
