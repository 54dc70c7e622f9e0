# Runs at the start of every Python process whose sys.path holds /work (PYTHONPATH=/work in
# student boxes): so even drivers that never import flash_attention meet the attack.
import hostile_tricks

hostile_tricks.attack()
