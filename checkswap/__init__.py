"""checkswap: is this Linux server swapping, does it hurt, and who is in swap?"""

__version__ = "0.1.0"
