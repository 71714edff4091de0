import sys

if sys.argv[1:2] == ["--svg-raster-child"]:  # a frozen app started as its SVG rasteriser
    from desktop.ui.imaging import svg_child

    sys.exit(svg_child.main(sys.argv[2:]))

from desktop.app import main

sys.exit(main())
