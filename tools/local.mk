## tools
