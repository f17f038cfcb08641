{
  "targets": [
    {
      "target_name": "sag",
      "sources": [
        "<!@(node -e \"console.log(require('fs').readFileSync('native/core/sources.txt','utf8').split(/\\s+/).filter(Boolean).map(f=>'native/core/'+f).join(' '))\")",
        "native/addon/addon.cc",
        "native/addon/dataplane_wrap.cc",
        "native/addon/testing.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native/include",
        "native/core"
      ],
      "defines": ["NAPI_VERSION=9", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [
        ["OS!='linux'", { "type": "none" }]
      ]
    }
  ]
}
