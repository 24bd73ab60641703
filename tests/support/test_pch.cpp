// The source of ts_test_pch (CMakeLists.txt): the target exists to build the precompiled
// header of the test frameworks that every module test executable reuses.
