{
  "targets": [
    {
      "target_name": "iptc",
      "sources": [
        "src-native/addon.cc",
        "src-native/counters.cc",
        "src-native/errors.cc",
        "src-native/family.cc",
        "src-native/netns.cc",
        "src-native/nft.cc",
        "src-native/rule_codec.cc",
        "src-native/rules_out.cc",
        "src-native/table_commit.cc",
        "src-native/table_open.cc",
        "src-native/table_read.cc",
        "src-native/xtables.cc",
        "src-native/xtlock.cc",
        "src-native/xt_glue.c"
      ],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE", "XTG_LIBDIR=\"<!(pkg-config --variable=xtlibdir xtables)\""],
      "include_dirs": ["<!@(pkg-config --cflags-only-I libip4tc libip6tc xtables | sed s/-I//g)"],
      "libraries": ["<!@(pkg-config --libs libip4tc libip6tc xtables)"],
      "cflags": ["-fvisibility=hidden", "-fstack-protector-strong", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
      "cflags_cc": ["-std=c++17", "-fexceptions"],
      "cflags_c": ["-std=gnu11"],
      "conditions": [
        ["OS!='linux'", {"type": "none"}]
      ]
    }
  ]
}
