{
  "targets": [
    {
      "target_name": "iptc",
      "sources": [
        "src-native/addon.cc",
        "src-native/which.cc",
        "src-native/common/errors.cc",
        "src-native/common/netns.cc",
        "src-native/common/xtlock.cc",
        "src-native/xt/family.cc",
        "src-native/xt/parse.cc",
        "src-native/xt/parse_cache.cc",
        "src-native/xt/plan.cc",
        "src-native/xt/print.cc",
        "src-native/xt/restore.cc",
        "src-native/xt/xtables.cc",
        "src-native/xt/xt_core.c",
        "src-native/xt/xt_options.c",
        "src-native/xt/xt_parse.c",
        "src-native/xt/xt_print.c",
        "src-native/legacy/blob.cc",
        "src-native/legacy/build.cc",
        "src-native/legacy/counters.cc",
        "src-native/legacy/kernel.cc",
        "src-native/legacy/table_commit.cc",
        "src-native/legacy/table_read.cc",
        "src-native/nft/batch.cc",
        "src-native/nft/batch_plan.cc",
        "src-native/nft/close_later.cc",
        "src-native/nft/counters.cc",
        "src-native/nft/decode.cc",
        "src-native/nft/decode_header.cc",
        "src-native/nft/decode_transport.cc",
        "src-native/nft/dump.cc",
        "src-native/nft/encode.cc",
        "src-native/nft/known.cc",
        "src-native/nft/known_apply.cc",
        "src-native/nft/nft.cc",
        "src-native/nft/table_commit.cc",
        "src-native/nft/table_read.cc",
        "src-native/nft/watch.cc"
      ],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE", "XTG_LIBDIR=\"<!(pkg-config --variable=xtlibdir xtables)\""],
      "include_dirs": ["src-native", "<!@(pkg-config --cflags-only-I libip4tc libip6tc xtables libnftnl libmnl | sed s/-I//g)"],
      "libraries": ["<!@(pkg-config --libs xtables libnftnl libmnl)"],
      "cflags": ["-fvisibility=hidden", "-fstack-protector-strong", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
      "cflags_cc": ["-std=c++17", "-fexceptions"],
      "cflags_c": ["-std=gnu11"],
      "conditions": [
        ["OS!='linux'", {"type": "none"}]
      ]
    }
  ]
}
